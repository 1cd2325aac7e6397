"""The speech package's small typed interface: what other packages may rely on."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

import numpy as np

SpokenLanguage = Literal["yue", "cmn", "en"]
SPOKEN_LANGUAGES: tuple[SpokenLanguage, ...] = ("yue", "cmn", "en")

# Everything inside the speech pipeline is float32 mono at this rate; other rates are resampled
# at the edge.
PIPELINE_SAMPLE_RATE = 16_000


@dataclass(frozen=True)
class Transcript:
    # in the script configured for the language (Traditional HK for yue, Simplified for cmn)
    text: str
    language: SpokenLanguage
    detected_language: str  # what Whisper said ("zh", "en", "yue", ...)
    language_probability: float
    duration_s: float  # audio duration
    elapsed_s: float = 0.0  # decode time


@runtime_checkable
class Transcriber(Protocol):
    """Whole-utterance recogniser over float32 mono 16 kHz audio."""

    def transcribe(
        self, audio: np.ndarray, *, language: SpokenLanguage | None = None
    ) -> Transcript: ...


@dataclass(frozen=True)
class AudioChunk:
    """PCM16 mono little-endian bytes at `sample_rate`."""

    pcm: bytes
    sample_rate: int


@runtime_checkable
class Synthesizer(Protocol):
    """Text -> PCM chunks, streamed; the sample rate is declared before the first chunk."""

    name: str
    sample_rate: int

    def supports(self, language: SpokenLanguage) -> bool: ...

    def synthesize(self, text: str, language: SpokenLanguage) -> Iterator[AudioChunk]: ...


# ---- streaming recognition events (voices.streaming) ------------------------------------
# Every SpeechStarted is followed, for the same utterance_id, by zero or more
# PartialTranscript and exactly one Utterance (whose text is empty when the burst was
# noise, too short, or filtered as a Whisper silence hallucination).


@dataclass(frozen=True)
class SpeechStarted:
    """The VAD heard speech: emitted within ~0.1 s of onset, before any decoding (barge-in)."""

    utterance_id: int
    at_s: float  # stream time of the onset (seconds of audio fed so far)


@dataclass(frozen=True)
class PartialTranscript:
    """A provisional transcript of the utterance so far; later ones supersede earlier ones."""

    utterance_id: int
    text: str
    audio_s: float  # speech decoded for this partial
    # Set when this partial is the recogniser's speculative final (decoded during a pause with
    # the final's settings): the whole transcript, which becomes the final if the caller says
    # no more (voices.streaming); None for an ordinary provisional partial.
    candidate: Transcript | None = None


@dataclass(frozen=True)
class Utterance:
    """The end of an utterance, as the recogniser decoded it (the transcriber's language
    label); the assistant decides the turn's language from it once (assistant.frames)."""

    utterance_id: int
    transcript: Transcript
    reason: str  # "silence" | "end_of_speech" | "max_length" | "close"
    end_latency_s: float = 0.0  # from the end point being reached to this event


FinalTranscript = Utterance  # the former name, kept for callers on other branches
StreamEvent = SpeechStarted | PartialTranscript | Utterance
