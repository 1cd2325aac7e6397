"""The assistant's small typed interface: generators and the events one turn emits.

A turn is an async stream of these events; the CLI prints them and the socket turns them
into protocol frames, so both run the same turn.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol, runtime_checkable

SpokenLanguage = Literal["yue", "cmn", "en"]


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


@dataclass(frozen=True)
class Source:
    """A citation returned as data (shown, never spoken)."""

    number: int  # [n] as numbered in the prompt
    doc_id: str
    chunk_id: str
    title: str
    snippet: str
    link: str | None
    score: float


# ---- events of one turn ---------------------------------------------------------------


@dataclass(frozen=True)
class PartialTranscript:
    text: str


@dataclass(frozen=True)
class FinalTranscript:
    text: str
    language: SpokenLanguage


@dataclass(frozen=True)
class SourcesFound:
    sources: list[Source]


@dataclass(frozen=True)
class AnswerDelta:
    delta: str


@dataclass(frozen=True)
class AnswerSentence:
    """A complete sentence of the answer, ready to be spoken."""

    text: str


@dataclass(frozen=True)
class AudioStart:
    sample_rate: int
    format: str = "pcm_s16le"


@dataclass(frozen=True)
class AudioData:
    pcm: bytes


@dataclass(frozen=True)
class AudioEnd:
    pass


@dataclass(frozen=True)
class TurnEnd:
    answer: str
    refused: bool
    language: SpokenLanguage
    # milliseconds: asr, retrieval, first_token, first_audio, voice_to_voice (those that apply)
    timings: dict[str, float] = field(default_factory=dict)
    cancelled: bool = False
    # added by the assistant: the standalone query retrieval used (a follow-up rewritten), and
    # "extractive" when an ungrounded model answer was replaced by quoted source sentences
    query: str = ""
    fallback: str | None = None
    error: str | None = None  # a GeneratorError code the turn survived by falling back


@dataclass(frozen=True)
class TurnError:
    code: str
    message: str


TurnEvent = (
    PartialTranscript
    | FinalTranscript
    | SourcesFound
    | AnswerDelta
    | AnswerSentence
    | AudioStart
    | AudioData
    | AudioEnd
    | TurnEnd
    | TurnError
)
