"""The live voice session: streaming recognition, turns, and barge-in, for one caller.

A `VoiceSession` owns the streaming recogniser of one caller, their conversation memory and
the turn that is running. Input frames go in with `send` (assistant.frames: AudioIn,
EndOfSpeech, Question, StopTurn, Playback; `feed_audio`, `ask`, ... are the same calls by
name). What comes out is a stream of `SessionEvent`s (a frame and its turn id) handed to the
`emit` callback: the recogniser's partial and final transcripts, each turn's frames (sources,
answer deltas, audio, end), and `Interrupted` when the caller speaks over an answer.

Each turn has a `TurnHandle`: `interrupt()` stops it (the model stops at its next token and the
voice at its next chunk), `interrupted` says so to whoever still holds its frames (the socket
drops queued audio of an interrupted turn), `done` resolves when it is over.

Barge-in: speech heard while an answer is being written or is still playing on the caller's
side interrupts it, except (1) during the echo guard (`barge_in_guard_s` after the answer's
audio starts: its own echo reaching the microphone), and (2) when the speech is only a short
acknowledgement (嗯, 係, ok, 好: `acknowledgements`): with `barge_in_on="words"` (default) the
answer is interrupted at the first partial or final transcript that is not one, or once
`barge_in_min_speech_s` (0.6 s) of speech was heard, whichever comes first; with
`barge_in_on="speech"` at the speech onset itself (faster, but "mm" stops the answer too).
When the caller reports playback (`Playback` frames), "still playing" and the memory of an
interrupted answer use what was heard; otherwise an estimate from the audio sent.

It never imports `serving`: the CLI or a test can drive a session the same way the socket does.
"""

from __future__ import annotations

import asyncio
import contextvars
import dataclasses
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

from assistant.answerer import Conversation
from assistant.frames import (
    AnswerDelta,
    AnswerSentence,
    AudioData,
    AudioIn,
    AudioStart,
    EndOfSpeech,
    FinalTranscript,
    InputFrame,
    Interrupted,
    PartialTranscript,
    Playback,
    Question,
    SessionEvent,
    SpeechStarted,
    StopTurn,
    TurnEnd,
    TurnError,
    TurnEvent,
    TurnInput,
    TurnStarted,
)
from assistant.preempt import SPECULATION, Speculate, Speculation, Speculator
from assistant.stages.acknowledgement import DEFAULT_ACKNOWLEDGEMENTS, is_acknowledgement
from assistant.stages.language import decide_language
from assistant.stages.pacing import PlaybackClock
from assistant.stages.recording import UtteranceRecorder
from voices.audio_io import AudioInputError
from voices.streaming import RecognizerBusyError
from voices.types import SpokenLanguage, StreamEvent, Utterance

log = logging.getLogger(__name__)

__all__ = [
    "Emit",
    "Interrupted",
    "SessionConfig",
    "SessionEvent",
    "Speculate",
    "SpeechStarted",
    "StreamingRecognizer",
    "TurnHandle",
    "TurnRunner",
    "TurnStarted",
    "VoiceSession",
]


# ---- what the session needs from its collaborators ----------------------------------


class StreamingRecognizer(Protocol):
    """voices.streaming.AsyncStreamingRecognizer as the session uses it.

    `accept` runs the VAD (and turn detection) at once, returns its cheap events
    (SpeechStarted, empty finals) to the session directly and raises for a frame it cannot
    take; `events()` decodes in a worker thread and yields the results.
    """

    def accept(self, pcm: bytes) -> list[StreamEvent]: ...

    def mark_end_of_speech(self) -> list[StreamEvent]: ...

    async def cancel(self) -> None: ...

    def voiced_s(self) -> float: ...

    def events(self) -> AsyncIterator[StreamEvent]: ...


class TurnRunner(Protocol):
    """Runs one turn: the question in, the turn's frames out (sources, answer, audio, end)."""

    def __call__(
        self, question: str, *, language: SpokenLanguage | None, conversation: Conversation
    ) -> AsyncIterator[TurnEvent]: ...


Emit = Callable[[SessionEvent], Awaitable[None]]


@dataclass
class SessionConfig:
    language: SpokenLanguage | None = None  # None = detect per utterance
    barge_in: bool = True
    barge_in_guard_s: float = 0.3
    # "words": interrupt at the first transcript that is not an acknowledgement (嗯, ok), or
    # once `barge_in_min_speech_s` of speech was heard (longer than an acknowledgement);
    # "speech": at the speech onset (acknowledgements interrupt too)
    barge_in_on: Literal["words", "speech"] = "words"
    barge_in_min_speech_s: float = 0.6
    acknowledgements: tuple[str, ...] = tuple(DEFAULT_ACKNOWLEDGEMENTS)
    max_utterance_s: float = 30.0
    sample_rate: int = 16_000
    turns_per_minute: int = 12
    audio_dir: Path | None = None  # store each utterance as a wav here; None = never store
    cancel_wait_s: float = 1.0  # longest wait for a cancelled turn task to unwind
    # retrieve on a stable partial transcript while the caller still speaks (assistant.preempt);
    # the turn reuses it when the final transcript asks the same, else it is discarded
    speculate: bool = True


@dataclass
class TurnHandle:
    """One turn of the session: `interrupt()` stops it, `done` resolves when it is over."""

    id: int
    input: TurnInput
    started: float
    end_of_speech_at: float | None  # voice turns: when the end of the utterance was known
    output_rate: int = 16_000
    playback: PlaybackClock = field(default_factory=PlaybackClock)
    interrupted: bool = False
    ended: bool = False  # its TurnEnd (or TurnError) was emitted: it finished on its own
    task: asyncio.Task[None] | None = None
    speculation: Speculation | None = None  # retrieval started on its partial transcript

    def interrupt(self) -> None:
        """Stop the turn now: the model stops at its next token, the voice at its next chunk."""
        self.interrupted = True
        self.playback.stop()
        if self.task is not None and not self.task.done():
            self.task.cancel()

    @property
    def running(self) -> bool:
        return self.task is not None and not self.task.done()

    @property
    def done(self) -> asyncio.Future[None]:
        assert self.task is not None
        return self.task

    def speaking(self, now: float) -> bool:
        return self.running or self.playback.playing(now)


class VoiceSession:
    def __init__(
        self,
        *,
        recognizer: StreamingRecognizer,
        run_turn: TurnRunner,
        conversation: Conversation,
        emit: Emit,
        config: SessionConfig | None = None,
        clock: Callable[[], float] = time.monotonic,
        speculate: Speculate | None = None,
    ) -> None:
        self.recognizer = recognizer
        self.run_turn = run_turn
        self.conversation = conversation
        self.config = config or SessionConfig()
        self._emit = emit
        self._clock = clock
        self._events_task: asyncio.Task[None] | None = None
        self._turn: TurnHandle | None = None  # the latest turn (running or still playing)
        self._turns: dict[int, TurnHandle] = {}
        self._next_turn_id = 1
        self._turn_starts: deque[float] = deque()
        self._last_push_at = clock()
        self._pending_barge_in: float | None = None  # onset of speech over an answer
        self._recorder = UtteranceRecorder(
            self.config.audio_dir,
            sample_rate=self.config.sample_rate,
            max_utterance_s=self.config.max_utterance_s,
        )
        self.speculator = Speculator(speculate if self.config.speculate else None)
        self._closed = False
        self.turns_started = 0
        self.barge_ins = 0

    # ---- public API --------------------------------------------------------------------

    async def start(self) -> None:
        self._events_task = asyncio.create_task(self._consume(), name="voice-session-events")

    async def send(self, frame: InputFrame) -> None:
        """One input frame from the caller."""
        match frame:
            case AudioIn(pcm=pcm):
                await self.feed_audio(pcm)
            case EndOfSpeech():
                await self.end_of_speech()
            case Question(text=text):
                await self.ask(text)
            case StopTurn():
                await self.cancel_turn()
            case Playback():
                self.playback(frame)

    async def feed_audio(self, pcm: bytes) -> None:
        """PCM16 bytes at the session's rate; the VAD runs now, decoding in a worker thread."""
        if self._closed or not pcm:
            return
        self._last_push_at = self._clock()
        try:
            events = self.recognizer.accept(pcm)
        except RecognizerBusyError:
            await self._notice(
                "asr_busy",
                "speech is arriving faster than it can be transcribed; this audio was dropped",
            )
            return
        except AudioInputError as exc:
            await self._notice("bad_audio", str(exc))
            return
        self._recorder.keep(pcm)
        for event in events:  # the VAD's own events: acted on now (barge-in), no queue
            await self._handle_safely(event)
        await self._barge_in_on_length()

    async def end_of_speech(self) -> None:
        """Push-to-talk release: the utterance ends now, without waiting for the VAD."""
        if not self._closed:
            for event in self.recognizer.mark_end_of_speech():
                await self._handle_safely(event)

    async def ask(self, text: str) -> None:
        """A typed question: it becomes a turn at once (interrupting any answer in progress)."""
        language = decide_language(
            text, declared=self.config.language, previous=self.conversation.language
        )
        await self._start_turn(text, language, "text", end_of_speech_at=None)

    async def cancel_turn(self) -> None:
        """The caller asked to stop the current answer (not the session)."""
        await self._interrupt(onset_at=self._clock(), reason="stop")

    def playback(self, report: Playback) -> None:
        """The caller's playback progress of a turn (optional; improves barge-in and memory)."""
        turn = self._turns.get(report.turn_id)
        if turn is not None and not turn.interrupted:
            turn.playback.on_report(report.sentence, report.played_ms, self._clock())

    def turn(self, turn_id: int) -> TurnHandle | None:
        return self._turns.get(turn_id)

    def interrupted(self, turn_id: int | None) -> bool:
        """Whether frames of `turn_id` are stale (its turn was interrupted)."""
        turn = self._turns.get(turn_id) if turn_id is not None else None
        return turn is not None and turn.interrupted

    @property
    def answering(self) -> bool:
        return self._turn is not None and self._turn.running

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
        """What decoding produces (partials, finals), as the recogniser's `events()` yields it."""
        async for event in self.recognizer.events():
            await self._handle_safely(event)

    async def _handle_safely(self, event: StreamEvent) -> None:
        try:
            await self._handle(event)
        except asyncio.CancelledError:
            raise
        except Exception:  # one bad event must not end the session
            log.exception("session event %r failed", type(event).__name__)

    async def _handle(self, event: StreamEvent) -> None:
        if isinstance(event, SpeechStarted):
            onset = self._last_push_at  # the frame that carried the onset arrived then
            self.speculator.new_utterance()
            await self._emit(SessionEvent(None, event))
            if self.config.barge_in and self._may_barge_in(onset):
                if self.config.barge_in_on == "speech":
                    await self._interrupt(onset_at=onset, reason="barge_in")
                else:
                    self._pending_barge_in = onset
                    await self._barge_in_on_length()
        elif isinstance(event, PartialTranscript):
            if event.text.strip():
                await self._emit(SessionEvent(None, event))
                await self._confirm_barge_in(event.text)
                if self._pending_barge_in is None:  # over an answer it may be only 嗯
                    candidate = event.candidate  # the final-to-be, decoded in a pause
                    language = decide_language(
                        event.text,
                        declared=self.config.language,
                        heard=candidate.language if candidate is not None else None,
                        previous=self.conversation.language,
                    )
                    if candidate is not None:
                        self.speculator.on_candidate(event.text.strip(), language)
                    else:
                        self.speculator.on_partial(event.text, language)
        elif isinstance(event, Utterance):
            await self._final(event)

    async def _barge_in_on_length(self) -> None:
        """Speech over an answer longer than an acknowledgement interrupts it without waiting
        for its words (the recogniser's partials can take seconds on a busy machine)."""
        onset = self._pending_barge_in
        if onset is None or self.recognizer.voiced_s() < self.config.barge_in_min_speech_s:
            return
        self._pending_barge_in = None
        await self._interrupt(onset_at=onset, reason="barge_in")

    async def _confirm_barge_in(self, text: str) -> None:
        """Speech over an answer: words that are not an acknowledgement interrupt it."""
        onset = self._pending_barge_in
        if onset is None or is_acknowledgement(text, self.config.acknowledgements):
            return
        self._pending_barge_in = None
        await self._interrupt(onset_at=onset, reason="barge_in")

    async def _final(self, event: Utterance) -> None:
        speculation = self.speculator.take()
        try:
            await self._final_turn(event, speculation)
        finally:
            if speculation is not None and speculation is not self._turn_speculation():
                speculation.discard()  # no turn took it (silence, 嗯, a limit)

    def _turn_speculation(self) -> Speculation | None:
        return self._turn.speculation if self._turn is not None else None

    async def _final_turn(self, event: Utterance, speculation: Speculation | None) -> None:
        now = self._clock()
        end_point_at = now - event.end_latency_s
        text = event.transcript.text.strip()
        language = decide_language(
            text,
            declared=self.config.language,
            heard=event.transcript.language,
            previous=self.conversation.language,
        )
        if event.reason == "max_length":
            await self._notice(
                "utterance_too_long",
                f"utterances are limited to {self.config.max_utterance_s:g} s; it was cut there",
            )
        await self._emit(SessionEvent(None, FinalTranscript(text, language)))
        pending, self._pending_barge_in = self._pending_barge_in, None
        acknowledgement = pending is not None and is_acknowledgement(
            text, self.config.acknowledgements
        )
        self._recorder.finish(store=bool(text) and not acknowledgement)
        if not text or acknowledgement:  # silence or noise; or "嗯" over the answer: no turn
            return
        if pending is not None:
            await self._interrupt(onset_at=pending, reason="barge_in")
        await self._start_turn(
            text,
            language,
            "voice",
            end_of_speech_at=end_point_at,
            asr_ms=event.end_latency_s * 1000,
            speculation=speculation,
        )

    async def _notice(self, code: str, message: str) -> None:
        await self._emit(SessionEvent(None, TurnError(code, message)))

    # ---- turns ---------------------------------------------------------------------------

    def _may_barge_in(self, onset: float) -> bool:
        turn = self._turn
        if turn is None or turn.interrupted or not turn.speaking(onset):
            return False
        started = turn.playback.started_at
        return started is None or onset - started >= self.config.barge_in_guard_s

    async def _interrupt(self, *, onset_at: float, reason: str) -> None:
        turn = self._turn
        if turn is None or turn.interrupted:
            return
        if not turn.running and not turn.playback.playing(onset_at):
            return
        heard = turn.playback.heard_text()
        turn.interrupt()
        if turn.task is not None:
            await asyncio.wait([turn.task], timeout=self.config.cancel_wait_s)
        if heard is not None and turn.playback.deltas:
            self.conversation.amend_last_answer(heard)  # memory keeps what the caller heard
        if reason == "barge_in":
            self.barge_ins += 1
        cancel_ms = (self._clock() - onset_at) * 1000
        frame = Interrupted(turn.id, cancel_ms, reason)  # type: ignore[arg-type]
        await self._emit(SessionEvent(turn.id, frame))

    async def _start_turn(
        self,
        question: str,
        language: SpokenLanguage | None,
        kind: TurnInput,
        *,
        end_of_speech_at: float | None,
        asr_ms: float | None = None,
        speculation: Speculation | None = None,
    ) -> None:
        now = self._clock()
        if not self._turn_allowed(now):
            await self._notice(
                "too_many_turns",
                f"at most {self.config.turns_per_minute} questions a minute; please wait a moment",
            )
            return
        await self._interrupt(onset_at=now, reason="new_question")
        turn_id, self._next_turn_id = self._next_turn_id, self._next_turn_id + 1
        self.turns_started += 1
        await self._emit(SessionEvent(turn_id, TurnStarted(kind, question, language)))
        turn = TurnHandle(turn_id, kind, started=now, end_of_speech_at=end_of_speech_at)
        turn.speculation = speculation
        context = contextvars.copy_context()  # the turn's retrieval stage finds it there
        context.run(SPECULATION.set, speculation)
        turn.task = asyncio.create_task(
            self._run(turn, question, language, asr_ms), name=f"turn-{turn_id}", context=context
        )
        self._turns = {turn_id: turn} | {
            i: t for i, t in self._turns.items() if i >= turn_id - 4
        }  # the socket may still hold frames of the last few turns
        self._turn = turn

    def _turn_allowed(self, now: float) -> bool:
        window = self._turn_starts
        while window and now - window[0] >= 60.0:
            window.popleft()
        if len(window) >= self.config.turns_per_minute:
            return False
        window.append(now)
        return True

    async def _run(
        self,
        turn: TurnHandle,
        question: str,
        language: SpokenLanguage | None,
        asr_ms: float | None,
    ) -> None:
        extra: dict[str, float] = {}
        if asr_ms is not None:
            extra["asr"] = round(asr_ms, 1)
        try:
            async for event in self.run_turn(
                question, language=language, conversation=self.conversation
            ):
                event = self._observe(turn, event, extra)
                await self._emit(SessionEvent(turn.id, event))
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a failed turn must not end the session
            log.exception("turn %s failed", turn.id)
            turn.ended = True
            await self._emit(SessionEvent(turn.id, TurnError("turn_failed", str(exc) or "failed")))
        finally:
            if turn.speculation is not None:
                turn.speculation.discard()  # unused (e.g. refused before retrieval): stop it

    def _observe(self, turn: TurnHandle, event: TurnEvent, extra: dict[str, float]) -> TurnEvent:
        """Keep the turn's playback clock; add the session's timings to its TurnEnd."""
        now = self._clock()
        if isinstance(event, AudioStart):
            turn.output_rate = event.sample_rate
        elif isinstance(event, AudioData):
            # the answer's first audio, not a holding phrase's ("好，我幫你查下。")
            answer_audio = not event.holding and turn.end_of_speech_at is not None
            if answer_audio and "voice_to_voice" not in extra:
                extra["voice_to_voice"] = round((now - turn.end_of_speech_at) * 1000, 1)
            turn.playback.on_audio(len(event.pcm) / 2 / turn.output_rate, now)
        elif isinstance(event, AnswerDelta):
            turn.playback.on_delta(event.delta)
        elif isinstance(event, AnswerSentence):
            turn.playback.on_sentence()
        elif isinstance(event, TurnEnd | TurnError):
            turn.ended = True
            return dataclasses.replace(event, timings={**event.timings, **extra})
        return event
