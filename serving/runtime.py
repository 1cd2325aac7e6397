"""What the server loads once and shares between sessions: models, the knowledge base, jobs.

`Engines` holds the loaded models (Whisper, the VAD, the LLM behind the assistant, the
voices). `Runtime` adds the server's state: readiness, the count of open sessions, the
admin jobs, metrics. Tests build `Engines` once per test session and hand it to
`create_app(engines=...)`, so every app they make shares the same loaded models.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, TypeVar

from assistant.answerer import Conversation
from assistant.session import Emit, SessionConfig, Speculate, TurnRunner, VoiceSession
from knowledge_base.collection import CollectionError, KnowledgeBase
from knowledge_base.types import QueryOptions
from serving.jobs import IngestJob, JobRegistry
from serving.limits import ClientLimiter
from serving.metrics import Metrics
from serving.report import open_journal
from serving.settings import Settings
from voices.streaming import (
    AsyncStreamingRecognizer,
    SessionTranscriber,
    StreamingRecognizer,
    TurnDetector,
)
from voices.types import SpokenLanguage, Synthesizer
from voices.vad import VadModel

if TYPE_CHECKING:
    from assistant.turn import Assistant

log = logging.getLogger("samyu.runtime")
T = TypeVar("T")
# one query per tokeniser path: Latin words, and Chinese (jieba) with its other-script variant
WARM_UP_QUERIES = ("warm-up", "查詢")


class Voices(Protocol):
    """voices.tts.registry.VoiceRegistry as the server uses it: the voice of a language."""

    def voice(self, language: SpokenLanguage) -> Synthesizer: ...


@dataclass
class Engines:
    """The loaded models, shared by every session (each is thread-safe or guarded)."""

    transcriber: SessionTranscriber
    vad_model: VadModel
    assistant: Assistant  # built with voice_for (speech)
    voices: Voices
    load_seconds: dict[str, float] = field(default_factory=dict)
    turn_detector: TurnDetector | None = None  # None: silence-only end points

    def output_sample_rate(self, language: SpokenLanguage | None) -> int | None:
        """The rate of the answer audio when the language is known in advance."""
        if language is None:
            return None
        return int(self.voices.voice(language).sample_rate)

    def turn_runner(self, collection: str) -> TurnRunner:
        """The spoken turn over `collection`: the assistant's own chain, bound (no wrapper)."""
        return functools.partial(self.assistant.answer_spoken, collection=collection)

    def speculator(self, collection: str) -> Speculate:
        """Retrieval ahead of the final transcript, for the turns over `collection`."""
        return functools.partial(self.assistant.speculate, collection=collection)

    def new_conversation(self) -> Conversation:
        return self.assistant.new_conversation()


def load_engines(settings: Settings, kb: KnowledgeBase) -> Engines:
    """Load every model once (blocking: minutes on a cold cache, seconds on a warm one)."""
    from assistant.turn import Assistant
    from voices.asr import build_transcriber
    from voices.tts.registry import VoiceRegistry
    from voices.types import SPOKEN_LANGUAGES
    from voices.vad import shared_vad_model

    timings: dict[str, float] = {}

    def timed(name: str, load: Callable[[], T]) -> T:
        started = time.perf_counter()
        value = load()
        timings[name] = round(time.perf_counter() - started, 2)
        log.info("loaded %s in %.1f s", name, timings[name])
        return value

    vad = timed("vad", shared_vad_model)
    transcriber = timed("asr", lambda: build_transcriber(settings.voices, vad_model=vad))
    voices = VoiceRegistry(settings.voices.tts)
    timed("voices", lambda: [voices.voice(lang) for lang in SPOKEN_LANGUAGES])
    assistant = timed(
        "llm",
        lambda: Assistant.from_settings(
            settings.assistant, kb, transcriber=transcriber, voice_for=voices.voice
        ),
    )
    return Engines(transcriber, vad, assistant, voices, timings, _turn_detector(settings))


def _turn_detector(settings: Settings) -> TurnDetector | None:
    """Smart Turn when enabled and installed; else silence-only end points (logged)."""
    from voices.turn_detection import TurnModelMissingError, shared_turn_model

    turn = settings.voices.turn_detection
    if not turn.enabled:
        return None
    try:
        return shared_turn_model(turn.model_path, threads=turn.threads)
    except TurnModelMissingError as exc:
        log.warning("semantic end of turn is off: %s", exc)
        return None


class Runtime:
    def __init__(self, settings: Settings, engines: Engines | None = None) -> None:
        self.settings = settings
        self.metrics = Metrics(journal=open_journal(settings))
        self.kb = KnowledgeBase(settings.kb)
        self.jobs = JobRegistry(
            settings.server.max_jobs_kept,
            on_finish=self._job_finished,
            store=settings.home / "jobs",
            uploads=settings.home / "uploads",
            job_retention_s=settings.server.job_retention_s,
            upload_retention_s=settings.server.upload_retention_s,
        )
        self.engines = engines
        self.active_sessions = 0
        self.clients = ClientLimiter(
            settings.server.max_sessions_per_ip, settings.server.connects_per_minute_per_ip
        )
        self.status: dict[str, str] = {
            "models": "ready" if engines else ("loading" if settings.server.load_models else "off"),
            "collections": "loading",
        }
        self._loader: asyncio.Task[None] | None = None

    # ---- start-up ------------------------------------------------------------------------

    def start_loading(self) -> None:
        """Load models and seed collections in the background; /readyz reports progress."""
        self.jobs.recover(self.kb.collection)  # admin jobs a crash left unfinished
        self._loader = asyncio.create_task(self._load(), name="samyu-load")

    async def _load(self) -> None:
        try:
            await asyncio.to_thread(self._seed_collections)
            self.status["collections"] = "ready"
        except Exception as exc:
            log.exception("seeding collections failed")
            self.status["collections"] = f"failed: {exc}"
        if self.engines is None and self.settings.server.load_models:
            try:
                self.engines = await asyncio.to_thread(load_engines, self.settings, self.kb)
                self.status["models"] = "ready"
            except Exception as exc:
                log.exception("loading models failed")
                self.status["models"] = f"failed: {type(exc).__name__}: {exc}"

    def _seed_collections(self) -> None:
        for name, folder in self.settings.server.seed_collections.items():
            collection = self.kb.collection(name)
            if collection.live_version() is not None and collection.documents():
                self._warm_up(name)
                continue
            if not folder.is_dir():
                raise FileNotFoundError(f"seed folder {folder} for collection {name!r}")
            report = collection.ingest([folder])
            log.info(
                "seeded collection %s from %s: %d files, %d chunks",
                name,
                folder,
                len(report.files),
                report.chunks_embedded,
            )
            self._warm_up(name)

    def _warm_up(self, name: str) -> None:
        """Load a collection's index and its embedder before /readyz says ready, so the first
        caller's retrieval costs milliseconds, not the ~1 s of a cold load. A Chinese query
        too: it loads the BM25 tokeniser's jieba dictionary (~0.7 s), which an English one
        never reaches, so the first Cantonese caller after a restart would otherwise pay it."""
        started = time.perf_counter()
        retriever = self.kb.collection(name).retriever()
        for query in WARM_UP_QUERIES:
            retriever.retrieve(query, QueryOptions(k=1))
        log.info("warmed collection %s in %.2f s", name, time.perf_counter() - started)

    async def wait_ready(self, timeout: float) -> bool:
        if self._loader is not None:
            await asyncio.wait([self._loader], timeout=timeout)
        return self.ready

    async def shutdown(self) -> None:
        if self._loader is not None and not self._loader.done():
            self._loader.cancel()
        await self.jobs.drain(timeout=5.0)

    # ---- state ---------------------------------------------------------------------------

    @property
    def ready(self) -> bool:
        models_ok = self.engines is not None or not self.settings.server.load_models
        return models_ok and self.status["collections"] == "ready"

    @property
    def can_talk(self) -> bool:
        return self.engines is not None and self.ready

    @property
    def default_collection(self) -> str:
        return next(iter(self.settings.server.seed_collections), "demo")

    def has_collection(self, name: str) -> bool:
        try:
            return self.kb.collection(name).live_version() is not None
        except CollectionError:
            return False

    def output_sample_rate(self, language: SpokenLanguage | None) -> int | None:
        return self.engines.output_sample_rate(language) if self.engines else None

    def new_session(
        self, *, collection: str, emit: Emit, config: SessionConfig, endpointing: bool
    ) -> VoiceSession:
        assert self.engines is not None, "sessions start only when ready"
        voices = self.settings.voices
        streaming = voices.streaming.model_copy(
            update={"max_utterance_s": min(config.max_utterance_s, 120.0)}
        )
        core = StreamingRecognizer(
            self.engines.transcriber,
            sample_rate=config.sample_rate,
            language=config.language,
            streaming=streaming,
            vad=voices.vad,
            vad_model=self.engines.vad_model,
            endpointing=endpointing,
            turn_detector=self.engines.turn_detector,
            turn_detection=voices.turn_detection,
        )
        return VoiceSession(
            recognizer=AsyncStreamingRecognizer(core),
            run_turn=self.engines.turn_runner(collection),
            speculate=self.engines.speculator(collection),
            conversation=self.engines.new_conversation(),
            emit=emit,
            config=config,
        )

    def _job_finished(self, job: IngestJob) -> None:
        self.metrics.ingest_jobs.labels(status=job.status).inc()
