"""The frames of a conversation: the one vocabulary every stage, the CLI and the socket speak.

Where it lives, and why: `voices` and `knowledge_base` may not import `assistant`, so the
speech-in frames the recogniser produces (`SpeechStarted`, `PartialTranscript`) are the
`voices.types` classes themselves, re-exported here (one class each, no copies); the
recogniser's raw end-of-utterance result (`voices.types.Utterance`, with the transcriber's
language label) is mapped exactly once, by the language decision (assistant/stages/language.py),
into this module's `FinalTranscript` (text, decided language). Everything after that is
defined here. `serving` converts these frames to socket frames and back, and nothing else.

A turn's frames, in order (typed turns start at TurnStarted):

    SpeechStarted, PartialTranscript..., FinalTranscript      (not part of a turn: turn_id None)
    TurnStarted, SourcesFound, [HoldingPhrase], (AnswerDelta, AnswerSentence)..., AudioStart,
    (AudioData..., AudioMark)..., AudioEnd, TurnEnd            (or TurnError instead of TurnEnd)
    Interrupted                                                (the caller spoke over the turn)

`HoldingPhrase` ("好，我幫你查下。") comes at most once, only when the model has not produced an
answer sentence `acknowledge_after_s` after the evidence gate passed; it is spoken before the
answer but is not part of it (not in AnswerDelta, TurnEnd.answer or the conversation memory).
`AudioMark` follows the audio of each answer sentence (not the holding phrase's).

Input frames (what the caller sends a session): AudioIn, EndOfSpeech, Question, StopTurn,
Playback.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from voices.types import PartialTranscript, SpeechStarted, SpokenLanguage

TurnInput = Literal["voice", "text"]
# How a turn ended, one word (the `turn_end`/metrics vocabulary, docs/protocol.md):
# model = the model's checked answer; extractive_fallback = quoted source sentences replaced
# an unchecked or failed answer; refused = the evidence gate redirected the caller;
# timeout = the model did not answer in time (quoted sentences were given instead);
# error = the turn failed (TurnError).
Outcome = Literal["model", "extractive_fallback", "refused", "timeout", "error"]


@dataclass(frozen=True)
class Source:
    """A citation returned as data (shown, never spoken): a numbered passage of the prompt."""

    number: int  # [n] as numbered in the prompt
    doc_id: str
    chunk_id: str
    title: str
    snippet: str
    link: str | None
    score: float


# ---- input frames (caller -> session) ------------------------------------------------------


@dataclass(frozen=True)
class AudioIn:
    """PCM16 mono little-endian bytes at the session's sample rate."""

    pcm: bytes


@dataclass(frozen=True)
class EndOfSpeech:
    """Push-to-talk release: the utterance ends now."""


@dataclass(frozen=True)
class Question:
    """A typed question."""

    text: str


@dataclass(frozen=True)
class StopTurn:
    """Stop the current answer (not the session)."""


@dataclass(frozen=True)
class Playback:
    """How far the caller has heard turn `turn_id`: all of sentences before `sentence` (0-based,
    in the order of its AnswerSentence frames) and `played_ms` of its audio in all."""

    turn_id: int
    sentence: int
    played_ms: float


InputFrame = AudioIn | EndOfSpeech | Question | StopTurn | Playback


# ---- recognition -----------------------------------------------------------------------


@dataclass(frozen=True)
class FinalTranscript:
    """The end of an utterance: its text and the language decided for it (once)."""

    text: str
    language: SpokenLanguage


# ---- one turn ----------------------------------------------------------------------------


@dataclass(frozen=True)
class TurnStarted:
    input: TurnInput
    question: str
    language: SpokenLanguage | None


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
class HoldingPhrase:
    """A "please wait" acknowledgement spoken while the model is slow to answer (not the
    caller's own backchannels, see assistant/stages/acknowledgement.py): not answer text."""

    text: str
    language: SpokenLanguage


@dataclass(frozen=True)
class AudioStart:
    sample_rate: int
    format: str = "pcm_s16le"


@dataclass(frozen=True)
class AudioData:
    pcm: bytes
    holding: bool = False  # audio of a HoldingPhrase, not of the answer (timings skip it)


@dataclass(frozen=True)
class AudioEnd:
    pass


@dataclass(frozen=True)
class AudioMark:
    """The audio of the turn's first `sentences` answer sentences has all been sent (so a
    player can tell which sentences were heard completely)."""

    sentences: int


@dataclass(frozen=True)
class TurnEnd:
    """The last frame of a turn: the answer and the one timings record (docs/protocol.md)."""

    answer: str
    refused: bool
    language: SpokenLanguage
    # milliseconds, each measured once at a stage boundary (docs/protocol.md, "Timings")
    timings: dict[str, float] = field(default_factory=dict)
    cancelled: bool = False
    # the standalone query retrieval used (a follow-up rewritten), and "extractive" when an
    # ungrounded model answer was replaced by quoted source sentences
    query: str = ""
    fallback: str | None = None
    error: str | None = None  # a GeneratorError code the turn survived by falling back

    @property
    def outcome(self) -> Outcome:
        if self.refused:
            return "refused"
        if self.error == "timeout":
            return "timeout"
        if self.error is not None:  # the generator failed; the caller got a quoted fallback
            return "error"
        if self.fallback is not None:
            return "extractive_fallback"
        return "model"


@dataclass(frozen=True)
class TurnError:
    """A turn that failed (or, with no turn, a notice about the input): code and message."""

    code: str
    message: str
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def outcome(self) -> Outcome:
        return "error"


@dataclass(frozen=True)
class Interrupted:
    """The caller spoke over turn `interrupted_turn` (or asked to stop it): it was stopped; the
    client stops its playback."""

    interrupted_turn: int
    cancel_ms: float  # from the audio that carried the speech onset to the turn being stopped
    reason: Literal["barge_in", "new_question", "stop"] = "barge_in"


TurnEvent = (
    PartialTranscript
    | FinalTranscript
    | SourcesFound
    | AnswerDelta
    | AnswerSentence
    | HoldingPhrase
    | AudioStart
    | AudioData
    | AudioMark
    | AudioEnd
    | TurnEnd
    | TurnError
)
Frame = SpeechStarted | TurnStarted | Interrupted | TurnEvent


@dataclass(frozen=True)
class SessionEvent:
    """A frame as a session emits it: `turn_id` None for frames of no turn (speech, notices)."""

    turn_id: int | None
    event: Frame


__all__ = [
    "AnswerDelta",
    "AnswerSentence",
    "AudioData",
    "AudioEnd",
    "AudioIn",
    "AudioMark",
    "AudioStart",
    "EndOfSpeech",
    "FinalTranscript",
    "Frame",
    "HoldingPhrase",
    "InputFrame",
    "Interrupted",
    "Outcome",
    "PartialTranscript",
    "Playback",
    "Question",
    "SessionEvent",
    "Source",
    "SourcesFound",
    "SpeechStarted",
    "StopTurn",
    "TurnEnd",
    "TurnError",
    "TurnEvent",
    "TurnInput",
    "TurnStarted",
]
