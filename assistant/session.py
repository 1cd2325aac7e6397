"""The live voice session: streaming recognition, turns, and barge-in, for one caller.

A `VoiceSession` owns the streaming recogniser of one caller, their conversation memory and
the turn that is running. Audio goes in with `feed_audio`; typed questions with `ask`. What
comes out is a stream of `SessionEvent`s handed to the `emit` callback: the recogniser's
partial and final transcripts, each turn's events (sources, answer deltas, audio), and
`Interrupted` when the caller speaks over an answer (barge-in).

Barge-in: when the recogniser reports that speech started while an answer is being written or
is still playing on the caller's side, the running turn task is cancelled at once (the LLM and
the speech synthesis stop with it), `Interrupted` is emitted so the client drops the audio it
still has queued, and the caller's new utterance becomes the next turn when its final
transcript arrives. For `barge_in_guard_s` after an answer's audio starts, speech does not
interrupt: the answer's own echo reaching the microphone would otherwise stop it (browsers
cancel most echo; this guard covers what is left).

It never imports `serving`: the CLI or a test can drive a session the same way the socket does.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
import uuid
import wave
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

from assistant.types import (
    AudioData,
    AudioStart,
    FinalTranscript,
    PartialTranscript,
    SpokenLanguage,
    TurnEnd,
    TurnError,
    TurnEvent,
)
from voices import types as asr
from voices.audio_io import AudioInputError
from voices.streaming import RecognizerBusyError

log = logging.getLogger(__name__)

TurnInput = Literal["voice", "text"]


# ---- what the session needs from its collaborators ----------------------------------


class StreamingRecognizer(Protocol):
    """voices.streaming.AsyncStreamingRecognizer as the session uses it.

    `push` runs the VAD at once (cheap) and raises for a frame it cannot take; decoding runs
    in a worker thread and its results come out of `events()` (voices.types.SpeechStarted,
    PartialTranscript, FinalTranscript).
    """

    async def push(self, pcm: bytes) -> None: ...

    async def end_of_speech(self) -> None: ...

    async def cancel(self) -> None: ...

    def events(self) -> AsyncIterator[Any]: ...


class TurnRunner(Protocol):
    """Runs one turn: the question in, the turn's events out (sources, answer, audio, end)."""

    def __call__(
        self, question: str, *, language: SpokenLanguage | None, conversation: Any
    ) -> AsyncIterator[TurnEvent]: ...


# ---- what the session emits ------------------------------------------------------------


@dataclass(frozen=True)
class SpeechStarted:
    """The recogniser heard the caller start speaking."""


@dataclass(frozen=True)
class TurnStarted:
    input: TurnInput
    question: str
    language: SpokenLanguage | None


@dataclass(frozen=True)
class Interrupted:
    """The caller spoke over turn `turn_id`: it was cancelled; the client stops its playback."""

    interrupted_turn: int
    cancel_ms: float  # from the audio that carried the speech onset to the turn being stopped
    reason: Literal["barge_in", "new_question", "stop"] = "barge_in"


@dataclass(frozen=True)
class SessionEvent:
    turn_id: int | None  # None: not part of a turn (partials of an utterance, notices)
    event: object


Emit = Callable[[SessionEvent], Awaitable[None]]


@dataclass
class SessionConfig:
    language: SpokenLanguage | None = None  # None = detect per utterance
    barge_in: bool = True
    barge_in_guard_s: float = 0.3
    max_utterance_s: float = 30.0
    sample_rate: int = 16_000
    turns_per_minute: int = 12
    audio_dir: Path | None = None  # store each utterance as a wav here; None = never store
    cancel_wait_s: float = 1.0  # longest wait for a cancelled turn task to unwind


@dataclass
class _Turn:
    id: int
    input: TurnInput
    task: asyncio.Task[None]
    started: float
    end_of_speech_at: float | None  # voice turns: when the end of the utterance was known
    audio_started_at: float | None = None
    playback_ends_at: float = 0.0  # estimated end of the caller's playback of this answer
    output_rate: int = 16_000


class VoiceSession:
    def __init__(
        self,
        *,
        recognizer: StreamingRecognizer,
        run_turn: TurnRunner,
        conversation: Any,
        emit: Emit,
        config: SessionConfig | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.recognizer = recognizer
        self.run_turn = run_turn
        self.conversation = conversation
        self.config = config or SessionConfig()
        self._emit = emit
        self._clock = clock
        self._events_task: asyncio.Task[None] | None = None
        self._turn: _Turn | None = None
        self._last_turn: _Turn | None = None
        self._next_turn_id = 1
        self._turn_starts: deque[float] = deque()
        self._last_push_at = clock()
        self._kept_audio = bytearray()  # only when config.audio_dir is set
        self._closed = False
        self.turns_started = 0
        self.barge_ins = 0

    # ---- public API --------------------------------------------------------------------

    async def start(self) -> None:
        self._events_task = asyncio.create_task(self._consume(), name="voice-session-events")

    async def feed_audio(self, pcm: bytes) -> None:
        """PCM16 bytes at the session's rate; the VAD runs now, decoding in a worker thread."""
        if self._closed or not pcm:
            return
        self._last_push_at = self._clock()
        try:
            await self.recognizer.push(pcm)
        except RecognizerBusyError:
            await self._notice(
                "asr_busy",
                "speech is arriving faster than it can be transcribed; this audio was dropped",
            )
            return
        except AudioInputError as exc:
            await self._notice("bad_audio", str(exc))
            return
        if self.config.audio_dir is not None:
            self._keep(pcm)

    async def end_of_speech(self) -> None:
        """Push-to-talk release: the utterance ends now, without waiting for the VAD."""
        if not self._closed:
            await self.recognizer.end_of_speech()

    async def ask(self, text: str) -> None:
        """A typed question: it becomes a turn at once (interrupting any answer in progress)."""
        await self._start_turn(text, self.config.language, "text", end_of_speech_at=None)

    async def cancel_turn(self) -> None:
        """The caller asked to stop the current answer (not the session)."""
        await self._interrupt(onset_at=self._clock(), reason="stop")

    @property
    def answering(self) -> bool:
        return self._turn is not None and not self._turn.task.done()

    async def close(self) -> None:
        """Stop everything at once: the caller has gone."""
        self._closed = True
        await self.recognizer.cancel()
        tasks = [t for t in (self._events_task, self._turn.task if self._turn else None) if t]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=self.config.cancel_wait_s)

    # ---- recognition -------------------------------------------------------------------

    async def _consume(self) -> None:
        async for event in self.recognizer.events():
            try:
                await self._handle(event)
            except asyncio.CancelledError:
                raise
            except Exception:  # one bad event must not end the session
                log.exception("session event %r failed", type(event).__name__)

    async def _handle(self, event: Any) -> None:
        if isinstance(event, asr.SpeechStarted):
            onset = self._last_push_at  # the frame that carried the onset arrived then
            await self._emit(SessionEvent(None, SpeechStarted()))
            if self.config.barge_in and self._may_barge_in(onset):
                await self._interrupt(onset_at=onset, reason="barge_in")
        elif isinstance(event, asr.PartialTranscript):
            if event.text.strip():
                await self._emit(SessionEvent(None, PartialTranscript(event.text)))
        elif isinstance(event, asr.FinalTranscript):
            await self._final(event)

    async def _final(self, event: asr.FinalTranscript) -> None:
        now = self._clock()
        end_point_at = now - event.end_latency_s
        text = event.transcript.text.strip()
        language = self.config.language or event.transcript.language
        if event.reason == "max_length":
            await self._notice(
                "utterance_too_long",
                f"utterances are limited to {self.config.max_utterance_s:g} s; it was cut there",
            )
        kept, self._kept_audio = bytes(self._kept_audio), bytearray()
        await self._emit(SessionEvent(None, FinalTranscript(text, language)))
        if not text:  # silence, noise, or push-to-talk released with nothing said: no turn
            return
        if kept:
            self._store(kept)
        await self._start_turn(
            text,
            language,
            "voice",
            end_of_speech_at=end_point_at,
            asr_ms=event.end_latency_s * 1000,
        )

    async def _notice(self, code: str, message: str) -> None:
        await self._emit(SessionEvent(None, TurnError(code, message)))

    # ---- turns ---------------------------------------------------------------------------

    def _may_barge_in(self, now: float) -> bool:
        turn = self._turn or self._last_turn
        if turn is None:
            return False
        speaking = not turn.task.done() or now < turn.playback_ends_at
        if not speaking:
            return False
        guard_over = (
            turn.audio_started_at is None
            or now - turn.audio_started_at >= self.config.barge_in_guard_s
        )
        return guard_over

    async def _interrupt(self, *, onset_at: float, reason: str) -> None:
        turn = self._turn or self._last_turn
        if turn is None:
            return
        still_playing = onset_at < turn.playback_ends_at
        if turn.task.done() and not still_playing:
            return
        if not turn.task.done():
            turn.task.cancel()
            await asyncio.wait([turn.task], timeout=self.config.cancel_wait_s)
        turn.playback_ends_at = 0.0
        self._turn = None
        self._last_turn = turn
        if reason == "barge_in":
            self.barge_ins += 1
        cancel_ms = (self._clock() - onset_at) * 1000
        await self._emit(SessionEvent(turn.id, Interrupted(turn.id, cancel_ms, reason)))  # type: ignore[arg-type]

    async def _start_turn(
        self,
        question: str,
        language: SpokenLanguage | None,
        kind: TurnInput,
        *,
        end_of_speech_at: float | None,
        asr_ms: float | None = None,
    ) -> None:
        now = self._clock()
        if not self._turn_allowed(now):
            await self._emit(
                SessionEvent(
                    None,
                    TurnError(
                        "too_many_turns",
                        f"at most {self.config.turns_per_minute} questions a minute; "
                        "please wait a moment",
                    ),
                )
            )
            return
        await self._interrupt(onset_at=now, reason="new_question")
        turn_id, self._next_turn_id = self._next_turn_id, self._next_turn_id + 1
        self.turns_started += 1
        await self._emit(SessionEvent(turn_id, TurnStarted(kind, question, language)))
        placeholder = _Turn(
            turn_id, kind, task=None, started=now, end_of_speech_at=end_of_speech_at
        )  # type: ignore[arg-type]
        placeholder.task = asyncio.create_task(
            self._run(placeholder, question, language, asr_ms), name=f"turn-{turn_id}"
        )
        self._turn = placeholder

    def _turn_allowed(self, now: float) -> bool:
        window = self._turn_starts
        while window and now - window[0] >= 60.0:
            window.popleft()
        if len(window) >= self.config.turns_per_minute:
            return False
        window.append(now)
        return True

    async def _run(
        self, turn: _Turn, question: str, language: SpokenLanguage | None, asr_ms: float | None
    ) -> None:
        extra: dict[str, float] = {}
        if asr_ms is not None:
            extra["asr"] = round(asr_ms, 1)
        try:
            async for event in self.run_turn(
                question, language=language, conversation=self.conversation
            ):
                if isinstance(event, AudioStart):
                    turn.output_rate = event.sample_rate
                elif isinstance(event, AudioData):
                    self._on_audio(turn, event, extra)
                elif isinstance(event, TurnEnd):
                    event = _with_timings(event, extra)
                await self._emit(SessionEvent(turn.id, event))
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a failed turn must not end the session
            log.exception("turn %s failed", turn.id)
            await self._emit(SessionEvent(turn.id, TurnError("turn_failed", str(exc) or "failed")))
        finally:
            if self._turn is turn:
                self._last_turn = turn

    def _on_audio(self, turn: _Turn, event: AudioData, extra: dict[str, float]) -> None:
        now = self._clock()
        if turn.audio_started_at is None:
            turn.audio_started_at = now
            turn.playback_ends_at = now
            extra["first_audio"] = round((now - turn.started) * 1000, 1)
            if turn.end_of_speech_at is not None:
                extra["voice_to_voice"] = round((now - turn.end_of_speech_at) * 1000, 1)
        seconds = len(event.pcm) / 2 / turn.output_rate
        turn.playback_ends_at = max(turn.playback_ends_at, now) + seconds

    # ---- privacy: audio is kept only when configured -------------------------------------

    def _keep(self, pcm: bytes) -> None:
        """Keep the current utterance's audio (bounded by the utterance limit)."""
        limit = int(self.config.max_utterance_s * self.config.sample_rate * 2) + len(pcm)
        self._kept_audio += pcm
        if len(self._kept_audio) > limit:
            del self._kept_audio[: len(self._kept_audio) - limit]

    def _store(self, pcm: bytes) -> None:
        directory = self.config.audio_dir
        if directory is None:
            return
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}.wav"
        with wave.open(str(path), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(self.config.sample_rate)
            out.writeframes(pcm)


def _with_timings(event: TurnEnd, extra: dict[str, float]) -> TurnEnd:
    timings = {**extra, **event.timings}
    # voice_to_voice is the session's to measure: the assistant does not see the end of speech
    if "voice_to_voice" in extra:
        timings["voice_to_voice"] = extra["voice_to_voice"]
    return dataclasses.replace(event, timings=timings)
