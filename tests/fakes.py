"""Fakes of each engine role, on a scripted timeline, for tests that need no model.

They stand BESIDE the real-model tests (which stay, marked slow): what only a real model shows
(Whisper on real speech, the LLM's answers, real voices) is tested with the real thing; what
is the pipeline's own logic (frame order, barge-in, the echo guard, limits, protocol errors,
turn detection) is tested here in milliseconds.

The timeline is the audio itself, not the wall clock: the fake VAD hears speech in any window
whose RMS is above `SPEECH_RMS` (tests send `tone(ms)` for speech and `silence(ms)` for
pauses), the fake recogniser answers each utterance with the next scripted transcript, the
fake generator writes the next scripted reply one word at a time and can be held at a word
until the test releases it (an answer "in progress" without sleeps), and the fake voice
speaks `ms_per_char` of audio per character.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from assistant.types import ChatTurn
from knowledge_base.collection import KnowledgeBase
from knowledge_base.config import RetrievalSettings
from voices.types import PIPELINE_SAMPLE_RATE, AudioChunk, SpokenLanguage, Transcript

if TYPE_CHECKING:
    from assistant.config import AssistantSettings
    from assistant.turn import Assistant
    from serving.runtime import Engines

SPEECH_RMS = 0.02


# ---- audio on the timeline -------------------------------------------------------------


def tone(ms: float, *, rate: int = PIPELINE_SAMPLE_RATE, amplitude: float = 0.3) -> bytes:
    """PCM16 the fake VAD hears as speech (a 220 Hz tone)."""
    t = np.arange(int(rate * ms / 1000)) / rate
    audio = amplitude * np.sin(2 * np.pi * 220 * t)
    return (audio * 32767).astype("<i2").tobytes()


def silence(ms: float, *, rate: int = PIPELINE_SAMPLE_RATE) -> bytes:
    return b"\x00\x00" * int(rate * ms / 1000)


def frames(pcm: bytes, *, ms: float = 20, rate: int = PIPELINE_SAMPLE_RATE) -> list[bytes]:
    step = int(rate * ms / 1000) * 2
    return [pcm[i : i + step] for i in range(0, len(pcm), step)]


# ---- VAD and recogniser ------------------------------------------------------------------


class FakeVadModel:
    """voices.vad.SileroVadModel's `run`, deciding speech by loudness (no ONNX)."""

    def run(
        self, windows: np.ndarray, h: np.ndarray, c: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        audio = windows[:, 64:]  # each row is 64 samples of context, then the window
        rms = np.sqrt(np.mean(np.square(audio), axis=1))
        return np.where(rms >= SPEECH_RMS, 0.95, 0.02).astype(np.float32), h, c


@dataclass
class FakeTranscriber:
    """The recogniser's engine: each final decode takes the next scripted (text, language).

    Partial (provisional) decodes return the first half of the next final's words, or
    `partial` when set (a caller whose words the recogniser already has, or mishears). An
    exhausted script transcribes as empty text (noise). `calls` records every decode.
    """

    script: deque[tuple[str, SpokenLanguage]] = field(default_factory=deque)
    calls: list[tuple[float, bool]] = field(default_factory=list)  # (audio seconds, final)
    partial: str | None = None

    @classmethod
    def saying(cls, *utterances: str | tuple[str, SpokenLanguage]) -> FakeTranscriber:
        items = [(u, "en") if isinstance(u, str) else u for u in utterances]
        return cls(deque(items))  # type: ignore[arg-type]

    def transcribe(
        self,
        audio: np.ndarray,
        *,
        language: SpokenLanguage | None = None,
        history: Sequence[SpokenLanguage] = (),
        vad_gate: bool = True,
        whisper_language: str | None = None,
        provisional: bool = False,
        cancelled: Callable[[], bool] | None = None,
    ) -> Transcript:
        seconds = audio.size / PIPELINE_SAMPLE_RATE
        self.calls.append((seconds, not provisional))
        text, label = self.script[0] if self.script else ("", language or "en")
        if provisional and self.partial is not None:
            text = self.partial
        elif provisional:
            words = text.split()
            text = " ".join(words[: max(1, len(words) // 2)]) if words else ""
        elif self.script:
            self.script.popleft()
        return Transcript(text, language or label, label, 1.0, seconds)


# ---- generator -------------------------------------------------------------------------


@dataclass
class FakeGenerator:
    """assistant.types.Generator: writes scripted replies a word at a time.

    `replies` are used in order, one per `stream()` call (query rewrites included); when they
    run out, `default` is written. With `hold_at=n` the stream stops before word n until the
    test sets `release` (an answer in progress, for barge-in tests); `closed` counts streams
    the consumer closed or cancelled before the end (how a barge-in stops the model).
    """

    replies: deque[str] = field(default_factory=deque)
    default: str = "Passport fees are listed on the page [1]."
    hold_at: int | None = None
    release: asyncio.Event = field(default_factory=asyncio.Event)
    name: str = "fake-generator"
    requests: list[list[ChatTurn]] = field(default_factory=list)
    closed: int = 0
    held: asyncio.Event = field(default_factory=asyncio.Event)

    @classmethod
    def replying(cls, *replies: str, hold_at: int | None = None) -> FakeGenerator:
        return cls(deque(replies), hold_at=hold_at)

    async def stream(
        self, messages: Sequence[ChatTurn], *, max_tokens: int, temperature: float
    ) -> AsyncIterator[str]:
        self.requests.append(list(messages))
        reply = self.replies.popleft() if self.replies else self.default
        words = reply.split(" ")
        finished = False
        try:
            for i, word in enumerate(words):
                if self.hold_at is not None and i == self.hold_at:
                    self.held.set()
                    await self.release.wait()
                await asyncio.sleep(0)  # a real model yields between tokens
                yield word + (" " if i < len(words) - 1 else "")
            finished = True
        finally:
            if not finished:
                self.closed += 1


@dataclass
class PrefillingGenerator(FakeGenerator):
    """A fake engine that can prefill: records what it was asked to read ahead."""

    prefilled: list[list[ChatTurn]] = field(default_factory=list)

    @property
    def can_prefill(self) -> bool:
        return True

    def prefill(self, messages: Sequence[ChatTurn]) -> int:
        self.prefilled.append(list(messages))
        return len(messages)


# ---- voice -------------------------------------------------------------------------------


@dataclass
class FakeSynthesizer:
    """voices.types.Synthesizer: `ms_per_char` of tone per character, in 100 ms chunks."""

    sample_rate: int = 16_000
    ms_per_char: float = 20.0
    name: str = "fake-voice"
    spoken: list[str] = field(default_factory=list)

    def supports(self, language: SpokenLanguage) -> bool:
        return True

    def synthesize(self, text: str, language: SpokenLanguage) -> Iterator[AudioChunk]:
        self.spoken.append(text)
        pcm = tone(len(text) * self.ms_per_char, rate=self.sample_rate, amplitude=0.1)
        step = self.sample_rate // 10 * 2
        for i in range(0, len(pcm), step):
            yield AudioChunk(pcm[i : i + step], self.sample_rate)


@dataclass
class FakeVoices:
    """voices.tts.registry.VoiceRegistry's `voice(language)`: one fake voice for all."""

    synthesizer: FakeSynthesizer = field(default_factory=FakeSynthesizer)

    def voice(self, language: SpokenLanguage) -> FakeSynthesizer:
        return self.synthesizer


def fake_assistant(
    kb: KnowledgeBase,
    generator: FakeGenerator,
    *,
    speaking: bool = False,
    voices: FakeVoices | None = None,
    transcriber: FakeTranscriber | None = None,
    assistant_settings: AssistantSettings | None = None,
    **settings: object,
) -> Assistant:
    """An Assistant over the fake knowledge base and `generator`, speaking with `voices` (a
    fake voice of its own when only `speaking`). Its settings are `assistant_settings` as
    given, or built from `settings` with no holding phrase unless `acknowledge_after_s` is
    given (a busy CPU holding a scripted generator for 1.5 s must not add audio to tests
    about something else)."""
    from assistant.config import AssistantSettings
    from assistant.turn import Assistant

    if assistant_settings is not None and settings:
        raise TypeError("give assistant_settings or settings, not both")
    if assistant_settings is None:
        settings.setdefault("acknowledge_after_s", None)
        assistant_settings = AssistantSettings(**settings)  # type: ignore[arg-type]
    if voices is None and speaking:
        voices = FakeVoices(FakeSynthesizer())
    return Assistant(
        assistant_settings,
        generator=generator,
        retriever_for=lambda name: kb.collection(name).retriever(),
        collections=kb.collections,
        transcriber=transcriber,
        voice_for=voices.voice if voices is not None else None,
    )


# ---- embedder and knowledge base -------------------------------------------------------

_TOKEN = re.compile(r"[a-z0-9]+|[\u3400-\u9fff]", re.I)


class FakeEmbedder:
    """knowledge_base.types.Embedder: hashed bag of words and characters (no model).

    Texts that share words get a high cosine, so the real FAISS + BM25 retriever and the
    evidence gate behave sensibly on a small corpus.
    """

    name = "fake-hash-64"
    dimension = 64

    def _vector(self, text: str) -> np.ndarray:
        vector = np.zeros(self.dimension, dtype=np.float32)
        for token in _TOKEN.findall(text.lower()):
            digest = hashlib.blake2b(token.encode(), digest_size=4).digest()
            vector[int.from_bytes(digest, "little") % self.dimension] += 1.0
        norm = float(np.linalg.norm(vector))
        return vector / norm if norm else vector

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        return np.stack([self._vector(t) for t in texts]) if texts else np.zeros((0, 64))

    def embed_query(self, text: str) -> np.ndarray:
        return self._vector(text)


class FakeKnowledgeBase(KnowledgeBase):
    """The real KnowledgeBase (chunking, FAISS, BM25, collections) with the fake embedder."""

    _embedder = FakeEmbedder()

    def embedder(self, settings: RetrievalSettings) -> FakeEmbedder:  # type: ignore[override]
        return self._embedder


# ---- the voice server's engines, all fake ---------------------------------------------


def fake_engines(
    kb: KnowledgeBase,
    *,
    transcriber: FakeTranscriber | None = None,
    generator: FakeGenerator | None = None,
    synthesizer: FakeSynthesizer | None = None,
    settings: AssistantSettings | None = None,
) -> Engines:
    """serving.runtime.Engines over `kb` with every model faked (the real assistant code):
    `fake_assistant`, speaking, with the recogniser."""
    from serving.runtime import Engines

    voices = FakeVoices(synthesizer or FakeSynthesizer())
    assistant = fake_assistant(
        kb,
        generator or FakeGenerator(),
        voices=voices,
        transcriber=transcriber,
        assistant_settings=settings,
    )
    return Engines(transcriber or FakeTranscriber(), FakeVadModel(), assistant, voices)


class ManualClock:
    """A clock the test moves: the session's time advances with the audio it is fed."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class FakeTurnDetector:
    """voices.streaming.TurnDetector: says `probability` for every check, and records the
    seconds of audio each check saw."""

    probability: float = 0.9
    checks: list[float] = field(default_factory=list)

    def end_probability(self, audio: np.ndarray) -> float:
        self.checks.append(audio.size / PIPELINE_SAMPLE_RATE)
        return self.probability
