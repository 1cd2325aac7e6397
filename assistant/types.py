"""The assistant's small typed interface: generators and the events one turn emits.

A turn is an async stream of these events; the CLI prints them and the socket turns them
into protocol frames, so both run the same turn.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

from voices.types import SpokenLanguage  # one definition, shared with voices


@dataclass(frozen=True)
class ChatTurn:
    role: Literal["system", "user", "assistant"]
    content: str


@runtime_checkable
class Generator(Protocol):
    """Streams answer text; cancelling the consuming task stops generation promptly."""

    name: str

    def stream(
        self, messages: Sequence[ChatTurn], *, max_tokens: int, temperature: float
    ) -> AsyncIterator[str]: ...


class GeneratorError(RuntimeError):
    """A generator could not produce an answer; `code` says why, the message says it plainly.

    Codes: "unreachable" (connection refused / DNS), "timeout" (no bytes within the read
    timeout), "bad_response" (not an OpenAI-compatible stream), "server_error" (HTTP 4xx/5xx),
    "model_error" (the embedded model failed).
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


# The frames of a turn live in assistant/frames.py (the one vocabulary); re-exported here
# because this module was the turn API's home.
from assistant.frames import (  # noqa: E402
    AnswerDelta,
    AnswerSentence,
    AudioData,
    AudioEnd,
    AudioMark,
    AudioStart,
    FinalTranscript,
    HoldingPhrase,
    PartialTranscript,
    Source,
    SourcesFound,
    TurnEnd,
    TurnError,
    TurnEvent,
)

__all__ = [
    "AnswerDelta",
    "AnswerSentence",
    "AudioData",
    "AudioEnd",
    "AudioMark",
    "AudioStart",
    "ChatTurn",
    "FinalTranscript",
    "Generator",
    "GeneratorError",
    "HoldingPhrase",
    "PartialTranscript",
    "Source",
    "SourcesFound",
    "SpokenLanguage",
    "TurnEnd",
    "TurnError",
    "TurnEvent",
]
