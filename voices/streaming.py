"""Streaming recognition: PCM16 frames in, SpeechStarted / PartialTranscript / Utterance out.

Whisper is not a streaming model, so (like LiveKit's StreamAdapter and WhisperLive) the
stream is cut into utterances by the Silero VAD and Whisper re-decodes the growing utterance
for partials, then the whole utterance once for the final.

Input
    PCM16 mono little-endian bytes at the rate declared when the recogniser is created:
    16000 is native; 8000, 22050, 24000, 44100 and 48000 are resampled with soxr (stream
    state kept across frames); any other rate raises `UnsupportedSampleRateError` (a
    ValueError) at construction. Frames may have any length, odd ones included (the odd
    byte is carried to the next frame). A frame longer than `max_frame_bytes` raises
    `AudioInputError` and changes nothing.

Events (dataclasses in voices.types), per utterance id:
    SpeechStarted      as soon as `vad.speech_start_ms` (default 64 ms) of speech is heard,
                       before any decoding: the voice server uses it for barge-in.
    PartialTranscript  while speaking, about every `streaming.partial_interval_s` (0.5 s) of new
                       speech, or every (last partial's decode time / `partial_busy_share`)
                       when decoding is slower:
                       a re-decode of the utterance so far (provisional; superseded by the
                       final). None is started during trailing silence, so a partial rarely
                       delays the final.
    Utterance          exactly one per SpeechStarted, at the end point: after
                       `streaming.end_silence_ms` (700 ms) of trailing silence, immediately on
                       `end_of_speech()` (push-to-talk), or forced after `max_utterance_s`
                       (`reason` says which). Its `transcript.text` is empty when the burst
                       was noise, shorter than `vad.min_speech_ms`, or a silence
                       hallucination. `end_of_speech()` with no speech in progress also
                       yields one empty final (so a push-to-talk turn always concludes).
    Speculative final  (`streaming.speculative_final`, on by default) at the first pause of
                       `speculative_final_silence_ms` (200 ms) of VAD silence, the utterance
                       so far is decoded exactly as a final is (same settings, language
                       decision included) while the end of turn is still being decided. With
                       partials on, its text comes out as a PartialTranscript with
                       `candidate` set (the session speculates on it: retrieval, prefill).
                       If the utterance ends with no new speech since, that decode IS the
                       final (no second decode; `end_latency_s` is then near 0); if the
                       caller speaks again it is dropped (a decode still running finishes in
                       its thread and its result is ignored) and the next pause starts one.
    With the async wrapper, a new utterance's SpeechStarted may arrive before the previous
    utterance's final (decoding runs behind the VAD); match them by `utterance_id`.

Bounds
    Only the current utterance (at most `max_utterance_s`), a `speech_pad_ms` pre-roll and at
    most `max_pending_finals` finished utterances awaiting decode are held, so memory does not
    grow with stream length: 30 minutes of silence costs VAD time only. When finished
    utterances pile up faster than they are decoded, `accept` raises `RecognizerBusyError`
    before touching the frame (the caller keeps it and may retry; nothing is lost silently).

Threading / asyncio
    `StreamingRecognizer` is the synchronous core and easy to test: `feed(pcm)` runs the VAD
    and then any due decode, returning the events. Internally it is split in two:
    `accept(pcm)` (VAD and buffering only: sub-millisecond per 20 ms frame) and
    `decode_pending()` (Whisper: CPU-heavy, hundreds of ms). Their shared state is guarded by
    a lock and decoding happens outside it, so `accept` never waits for Whisper.
    `AsyncStreamingRecognizer` is the asyncio face: `accept(pcm)` runs the VAD on the loop
    (cheap) and returns its events at once, so SpeechStarted is never delayed by a decode in
    flight; `events()` runs `decode_pending` in a thread (`asyncio.to_thread`) whenever work
    is due and yields the results, so the event loop is never blocked; partials are
    coalesced (at most one pending) when decoding is slower than speech.

Session language
    `language` is the caller's declared language (or None for auto); the labels of this
    stream's finished utterances are kept as history and passed to the transcriber, which
    uses them to tell Cantonese from Mandarin when Whisper cannot (see voices.language).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from voices.audio_io import AudioInputError, pcm16_to_float
from voices.config import (
    StreamingSettings,
    TurnDetectionSettings,
    VadSettings,
    VoiceSettings,
)
from voices.resample import StreamResampler
from voices.types import (
    PIPELINE_SAMPLE_RATE,
    PartialTranscript,
    SpeechStarted,
    SpokenLanguage,
    StreamEvent,
    Transcript,
    Utterance,
)
from voices.vad import WINDOW, SileroVad, VadModel

log = logging.getLogger(__name__)
_WINDOW_S = WINDOW / PIPELINE_SAMPLE_RATE
_LOCK_LANGUAGE_SAMPLES = 3 * PIPELINE_SAMPLE_RATE


class RecognizerBusyError(RuntimeError):
    """Finished utterances are waiting for decoding beyond `max_pending_finals`."""


class TurnDetector(Protocol):
    """P(the speaker has finished) for the utterance so far (voices.turn_detection)."""

    def end_probability(self, audio: np.ndarray) -> float: ...


@dataclass
class _TurnCheck:
    utterance_id: int
    pause_start: int  # buffer index where the pause began: the check is stale once it moves
    audio: np.ndarray
    language: SpokenLanguage


class SessionTranscriber(Protocol):
    """What the recogniser needs of an ASR engine (FasterWhisperTranscriber provides it)."""

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
    ) -> Transcript: ...


@dataclass
class _Speculation:
    """The utterance so far, decoded as a final during a pause (before the end of turn)."""

    utterance_id: int
    audio: np.ndarray
    started: bool = False  # taken by the decode worker (it is never decoded twice)
    transcript: Transcript | None = None  # once decoded


@dataclass
class _FinalJob:
    utterance_id: int
    audio: np.ndarray
    reason: str
    endpoint_at: float  # clock time the end point was reached
    speculation: _Speculation | None = None  # its audio decoded ahead: reuse, do not redo


def _work_name(*work: object) -> str | None:
    """What the decode worker took (final, turn check, speculative final, partial), for the log."""
    names = ("final", "turn check", "speculative final", "partial")
    return next((name for name, item in zip(names, work, strict=True) if item is not None), None)


class StreamingRecognizer:
    """Synchronous streaming core for one audio stream (one caller, one WebSocket)."""

    def __init__(
        self,
        transcriber: SessionTranscriber,
        *,
        sample_rate: int = PIPELINE_SAMPLE_RATE,
        language: SpokenLanguage | None = None,
        streaming: StreamingSettings | None = None,
        vad: VadSettings | None = None,
        vad_model: VadModel | None = None,
        endpointing: bool = True,
        history: Sequence[SpokenLanguage] = (),
        clock: Callable[[], float] = time.perf_counter,
        turn_detector: TurnDetector | None = None,
        turn_detection: TurnDetectionSettings | None = None,
    ) -> None:
        """`endpointing=False`: trailing silence does not end an utterance (push-to-talk
        holds): only `end_of_speech()` or `max_utterance_s` do. With a `turn_detector`, a
        pause ends the utterance when the detector says the turn is complete (after
        `check_silence_ms`), or after `max_silence_ms`; without one, after `end_silence_ms`."""
        self.transcriber = transcriber
        self.settings = streaming or StreamingSettings()
        self.vad_settings = vad or VadSettings()
        self.language = language
        self.endpointing = endpointing
        self.history: deque[SpokenLanguage] = deque(history, maxlen=10)
        self._clock = clock
        self._resampler = StreamResampler(sample_rate)  # validates the rate
        self.sample_rate = sample_rate
        self._vad = SileroVad(vad_model)
        self._lock = threading.Lock()
        self._decode_lock = threading.Lock()  # one decode at a time per stream, in order
        self._turn_check_lock = threading.Lock()  # one turn check at a time (not behind decodes)
        self._busy: str | None = None  # what the decode worker is doing now (for the log)
        self._odd = b""
        self._tail = np.zeros(0, dtype=np.float32)  # < one VAD window, waiting for more
        self._stream_windows = 0
        pad_windows = max(1, round(self.vad_settings.speech_pad_ms / 1000 / _WINDOW_S))
        self._start_windows = max(1, round(self.vad_settings.speech_start_ms / 1000 / _WINDOW_S))
        self._end_windows = max(1, round(self.settings.end_silence_ms / 1000 / _WINDOW_S))
        self.turn_detector = turn_detector
        self.turn_settings = turn_detection or TurnDetectionSettings()
        if turn_detector is not None:
            turn = self.turn_settings
            self._end_windows = max(1, round(turn.max_silence_ms / 1000 / _WINDOW_S))
        self._check_windows = max(1, round(self.turn_settings.check_silence_ms / 1000 / _WINDOW_S))
        self._recheck_windows = max(1, round(self.turn_settings.recheck_ms / 1000 / _WINDOW_S))
        self._next_check = self._check_windows
        self._turn_check: _TurnCheck | None = None
        self.turn_checks = 0  # how often the detector was asked (bench, tests)
        self._pad_windows = pad_windows
        self._max_windows = int(self.settings.max_utterance_s / _WINDOW_S)
        self._partial_windows = max(1, round(self.settings.partial_interval_s / _WINDOW_S))
        self._min_voiced = max(1, round(self.vad_settings.min_speech_ms / 1000 / _WINDOW_S))
        self._preroll: deque[np.ndarray] = deque(maxlen=pad_windows + self._start_windows)
        self._utterance_id = 0
        self._in_speech = False
        self._speech_run = 0
        self._silence_run = 0
        self._voiced = 0
        self._buffer: list[np.ndarray] = []
        self._partial_due = False
        self._last_partial_windows = 0
        self._partial_language: str | None = None
        self._last_partial_cost_s = 0.0
        self._finals: deque[_FinalJob] = deque()
        self._speculative_windows = max(
            1, round(self.settings.speculative_final_silence_ms / 1000 / _WINDOW_S)
        )
        self._speculation: _Speculation | None = None  # valid while no new speech is heard
        # counts for the bench and tests: decoded ahead / used as the final / dropped
        self.speculative_decodes = 0
        self.speculations_reused = 0
        self.speculations_dropped = 0

    @classmethod
    def from_settings(
        cls,
        transcriber: SessionTranscriber,
        settings: VoiceSettings,
        *,
        sample_rate: int = PIPELINE_SAMPLE_RATE,
        language: SpokenLanguage | None = None,
        endpointing: bool = True,
        history: Sequence[SpokenLanguage] = (),
    ) -> StreamingRecognizer:
        """One recogniser per stream with the `[voices]` settings (the voice server's way)."""
        return cls(
            transcriber,
            sample_rate=sample_rate,
            language=language,
            streaming=settings.streaming,
            vad=settings.vad,
            endpointing=endpointing,
            history=history,
        )

    # ---- sync API ------------------------------------------------------------------------

    def feed(self, pcm: bytes) -> list[StreamEvent]:
        """Accept a frame and run whatever decode is due (blocking): all resulting events."""
        return self.accept(pcm) + self.decode_pending()

    def end_of_speech(self) -> list[StreamEvent]:
        """Push-to-talk release: end the utterance now and decode it (blocking)."""
        return self.mark_end_of_speech() + self.decode_pending()

    def close(self) -> list[StreamEvent]:
        """End of stream: flush the resampler, finish any utterance, decode everything."""
        return self.mark_closed() + self.decode_pending()

    # ---- the two halves ------------------------------------------------------------------

    def accept(self, pcm: bytes) -> list[StreamEvent]:
        """VAD and buffering only (cheap): may return SpeechStarted and empty finals."""
        if len(pcm) > self.settings.max_frame_bytes:
            raise AudioInputError(
                f"frame of {len(pcm)} bytes is over the {self.settings.max_frame_bytes} limit"
            )
        with self._lock:
            if len(self._finals) >= self.settings.max_pending_finals:
                raise RecognizerBusyError(
                    f"{len(self._finals)} utterances are waiting for decoding; retry the frame"
                )
            data = self._odd + bytes(pcm)
            cut = len(data) - len(data) % 2
            self._odd = data[cut:]
            if cut == 0:
                return []
            audio = self._resampler.process(pcm16_to_float(data[:cut]))
            return self._run_vad(audio)

    def accept_samples(self, audio: np.ndarray) -> list[StreamEvent]:
        """Like `accept`, for float32 samples already at 16 kHz (decoded files)."""
        if self.sample_rate != PIPELINE_SAMPLE_RATE:
            raise ValueError("accept_samples takes 16 kHz audio; create the recogniser at 16000")
        with self._lock:
            if len(self._finals) >= self.settings.max_pending_finals:
                raise RecognizerBusyError(
                    f"{len(self._finals)} utterances are waiting for decoding; retry"
                )
            return self._run_vad(np.asarray(audio, dtype=np.float32))

    def mark_end_of_speech(self) -> list[StreamEvent]:
        with self._lock:
            return self._end_now("end_of_speech")

    def mark_closed(self) -> list[StreamEvent]:
        with self._lock:
            events = self._run_vad(self._resampler.process(np.zeros(0, np.float32), last=True))
            if self._in_speech:
                events += self._end_now("close")
            return events

    def voiced_s(self) -> float:
        """Seconds of speech heard in the utterance in progress (0 between utterances)."""
        with self._lock:
            return self._voiced * _WINDOW_S if self._in_speech else 0.0

    def has_pending_decode(self, *, turn_checks: bool = True) -> bool:
        """Whether `decode_pending(turn_checks=...)` has work to do now."""
        with self._lock:
            return (
                bool(self._finals)
                or (turn_checks and self._turn_check is not None)
                or (self._speculation is not None and not self._speculation.started)
                or self._partial_ready()
            )

    def has_pending_turn_check(self) -> bool:
        with self._lock:
            return self._turn_check is not None

    def check_turn_pending(self) -> list[StreamEvent]:
        """Run a due end-of-turn check now, beside any decode in flight (not behind it).

        The check needs the VAD's buffer and the turn model only, never Whisper, so it does
        not take the decode lock: a partial or speculative decode still running when the
        caller stops no longer delays the end point. An utterance it ends is queued as a
        final for `decode_pending` (which reuses a speculative decode of it)."""
        with self._turn_check_lock:
            with self._lock:
                check, self._turn_check = self._turn_check, None
            return self._check_turn(check) if check is not None else []

    def decode_pending(self, *, turn_checks: bool = True) -> list[StreamEvent]:
        """Run the due work (finals first, then a turn check, then a speculative final, then
        at most one partial). `turn_checks=False`: leave turn checks to `check_turn_pending`
        (the async wrapper runs them beside the decodes)."""
        events: list[StreamEvent] = []
        with self._decode_lock:
            while True:
                with self._lock:
                    job = self._finals.popleft() if self._finals else None
                    check = None
                    if job is None and turn_checks:
                        check, self._turn_check = self._turn_check, None
                    speculation = None if job or check else self._take_speculation()
                    partial = None if job or check or speculation else self._take_partial()
                    history = tuple(self.history)
                    self._busy = _work_name(job, check, speculation, partial)
                if job is not None:
                    events.append(self._decode_final(job, history))
                elif check is not None:
                    with self._turn_check_lock:
                        events += self._check_turn(check)
                elif speculation is not None:
                    events += self._decode_speculation(speculation, history)
                elif partial is not None:
                    event = self._decode_partial(*partial, history)
                    if event is not None:
                        events.append(event)
                    break
                else:
                    break
            with self._lock:
                self._busy = None
        return events

    # ---- VAD state machine (called with the lock held) ------------------------------------

    def _run_vad(self, audio: np.ndarray) -> list[StreamEvent]:
        audio = np.concatenate([self._tail, audio]) if self._tail.size else audio
        n = audio.size // WINDOW
        self._tail = audio[n * WINDOW :].copy()
        if n == 0:
            return []
        windows = audio[: n * WINDOW].reshape(n, WINDOW)
        probs = self._vad.process(windows.reshape(-1))
        events: list[StreamEvent] = []
        for window, prob in zip(windows, probs, strict=True):
            self._stream_windows += 1
            if self._in_speech:
                events += self._in_speech_window(window.copy(), float(prob))
            else:
                events += self._silent_window(window.copy(), float(prob))
        return events

    def _silent_window(self, window: np.ndarray, prob: float) -> list[StreamEvent]:
        self._preroll.append(window)
        self._speech_run = self._speech_run + 1 if prob >= self.vad_settings.threshold else 0
        if self._speech_run < self._start_windows:
            return []
        self._utterance_id += 1
        self._in_speech = True
        self._buffer = list(self._preroll)
        self._preroll.clear()
        self._voiced = self._speech_run
        self._silence_run = 0
        self._last_partial_windows = 0
        self._partial_language = None
        onset = (self._stream_windows - self._speech_run) * _WINDOW_S
        return [SpeechStarted(self._utterance_id, at_s=onset)]

    def _in_speech_window(self, window: np.ndarray, prob: float) -> list[StreamEvent]:
        self._buffer.append(window)
        if prob >= self.vad_settings.threshold:
            self._voiced += 1
            self._silence_run = 0
            self._next_check = self._check_windows
            if self._speculation is not None:  # the caller goes on: that decode is stale
                self._speculation = None
                self.speculations_dropped += 1
        elif prob < self.vad_settings.neg_threshold:
            self._silence_run += 1
            if self._turn_check_due():
                self._schedule_turn_check()
            if self._speculation_due():
                self._speculation = _Speculation(self._utterance_id, np.concatenate(self._buffer))
        if self.endpointing and self._silence_run >= self._end_windows:
            # keep a little of the trailing silence: Whisper clips final syllables otherwise
            keep = len(self._buffer) - self._silence_run + self._pad_windows
            del self._buffer[keep:]
            return self._finish("silence")
        if len(self._buffer) >= self._max_windows:
            return self._finish("max_length")
        # A partial is scheduled only while the caller is audibly speaking (a partial started
        # in the trailing silence would delay the final behind it), and spaced by its decode
        # time over `partial_busy_share`, so the decoder is often idle when the caller stops.
        interval = self._partial_windows
        if self.settings.adaptive_partials:
            busy = self._last_partial_cost_s / self.settings.partial_busy_share
            interval = max(interval, round(busy / _WINDOW_S))
        if (
            self.settings.partials
            and prob >= self.vad_settings.threshold
            and self._voiced >= self._min_voiced
            and len(self._buffer) - self._last_partial_windows >= interval
        ):
            self._partial_due = True
        return []

    # ---- speculative final ------------------------------------------------------------------

    def _speculation_due(self) -> bool:
        return (
            self.settings.speculative_final
            and self._speculation is None
            and self._silence_run == self._speculative_windows
            and self._voiced >= self._min_voiced
        )

    def _take_speculation(self) -> _Speculation | None:
        speculation = self._speculation
        if speculation is None or speculation.started or not self._in_speech:
            return None
        speculation.started = True
        return speculation

    def _decode_speculation(
        self, speculation: _Speculation, history: tuple[SpokenLanguage, ...]
    ) -> list[StreamEvent]:
        """Decode as `_decode_final` does; the result waits in `speculation` for the final."""
        transcript = self._transcribe_final(speculation.audio, history)
        with self._lock:
            speculation.transcript = transcript
            self.speculative_decodes += 1
            still_current = self._speculation is speculation or any(
                job.speculation is speculation for job in self._finals
            )
        if not (still_current and transcript.text and self.settings.partials):
            return []  # the caller spoke again meanwhile, it was noise, or no partials wanted
        audio_s = speculation.audio.size / PIPELINE_SAMPLE_RATE
        return [PartialTranscript(speculation.utterance_id, transcript.text, audio_s, transcript)]

    # ---- semantic end of turn ----------------------------------------------------------------

    def _turn_check_due(self) -> bool:
        return (
            self.turn_detector is not None
            and self.endpointing
            and self._silence_run >= self._next_check
            and self._voiced >= self._min_voiced
        )

    def _schedule_turn_check(self) -> None:
        """Ask the detector (in the decode worker, not here on the caller's loop)."""
        self._next_check = self._silence_run + self._recheck_windows
        pause_start = len(self._buffer) - self._silence_run
        self._turn_check = _TurnCheck(
            self._utterance_id, pause_start, np.concatenate(self._buffer), self._turn_language()
        )

    def _turn_language(self) -> SpokenLanguage:
        if self.language is not None:
            return self.language
        if self.history:
            return self.history[-1]
        heard = self._partial_language  # Whisper's code of this utterance, once locked
        if heard is None or heard == "en":
            return "en"
        return "yue" if heard == "yue" else "cmn"

    def _check_turn(self, check: _TurnCheck) -> list[StreamEvent]:
        assert self.turn_detector is not None
        probability = self.turn_detector.end_probability(check.audio)
        thresholds = self.turn_settings.thresholds
        threshold = thresholds.get(check.language, thresholds.get("en", 0.5))
        with self._lock:
            self.turn_checks += 1
            still_paused = (
                self._in_speech
                and check.utterance_id == self._utterance_id
                and self._silence_run > 0
                and len(self._buffer) - self._silence_run == check.pause_start
            )
            if not still_paused or probability < threshold:
                return []
            keep = check.pause_start + self._pad_windows
            del self._buffer[keep:]
            return self._finish("turn_complete")

    def _end_now(self, reason: str) -> list[StreamEvent]:
        if self._tail.size and self._in_speech:
            self._buffer.append(self._tail)
            self._tail = np.zeros(0, dtype=np.float32)
        if self._in_speech:
            return self._finish(reason)
        # push-to-talk released with nothing said: conclude the turn with an empty final
        self._utterance_id += 1
        return [self._empty_final(self._utterance_id, reason, 0.0)]

    def _finish(self, reason: str) -> list[StreamEvent]:
        utterance_id, buffer, voiced = self._utterance_id, self._buffer, self._voiced
        silence_run = self._silence_run
        # no speech since the pause's decode began: that decode is this utterance's final
        speculation, self._speculation = self._speculation, None
        self._in_speech = False
        self._buffer = []
        self._speech_run = self._silence_run = self._voiced = 0
        self._partial_due = False
        self._turn_check = None
        self._next_check = self._check_windows
        audio = np.concatenate(buffer) if buffer else np.zeros(0, np.float32)
        if voiced < self._min_voiced:
            return [self._empty_final(utterance_id, reason, audio.size / PIPELINE_SAMPLE_RATE)]
        if speculation is not None:
            audio = speculation.audio
        log.info(
            "utterance %d ends (%s) after %.0f ms of silence; speculative decode %s; decoder %s",
            utterance_id,
            reason,
            silence_run * _WINDOW_S * 1000,
            "none" if speculation is None else "running" if speculation.started else "not started",
            f"busy with a {self._busy}" if self._busy else "idle",
        )
        self._finals.append(_FinalJob(utterance_id, audio, reason, self._clock(), speculation))
        return []

    def _partial_ready(self) -> bool:
        # due, and the caller is still audible: one that would start in a pause (the decoder
        # was busy when it fell due) waits for more speech, so the pause's decode need not
        # queue behind it
        return self._partial_due and self._in_speech and self._silence_run == 0

    def _take_partial(self) -> tuple[int, np.ndarray, str | None] | None:
        if not self._partial_ready():
            return None
        self._partial_due = False
        self._last_partial_windows = len(self._buffer)
        return self._utterance_id, np.concatenate(self._buffer), self._partial_language

    def _empty_final(self, utterance_id: int, reason: str, duration: float) -> Utterance:
        fallback: SpokenLanguage = self.language or (self.history[-1] if self.history else "en")
        return Utterance(utterance_id, Transcript("", fallback, "", 0.0, duration), reason, 0.0)

    # ---- decoding (lock not held) ----------------------------------------------------------

    def _transcribe_final(
        self, audio: np.ndarray, history: tuple[SpokenLanguage, ...]
    ) -> Transcript:
        """A final's decode; the pause's speculative decode is this same call, so reusing it
        as the final is exact."""
        return self.transcriber.transcribe(
            audio, language=self.language, history=history, vad_gate=True
        )

    def _decode_final(self, job: _FinalJob, history: tuple[SpokenLanguage, ...]) -> Utterance:
        # a speculation not yet taken is no longer takeable (`_finish` dropped it): decoded
        # here once; one already decoded is the final itself (the decode lock orders them)
        reused = job.speculation.transcript if job.speculation is not None else None
        transcript = reused if reused is not None else self._transcribe_final(job.audio, history)
        log.info(
            "utterance %d final %s, ready %.0f ms after its end point",
            job.utterance_id,
            "reused the pause's decode" if reused is not None else "decoded",
            (self._clock() - job.endpoint_at) * 1000,
        )
        with self._lock:
            if reused is not None:
                self.speculations_reused += 1
            if transcript.text:
                self.history.append(transcript.language)
        return Utterance(job.utterance_id, transcript, job.reason, self._clock() - job.endpoint_at)

    def _partial_superseded(self, utterance_id: int) -> bool:
        """The partial decoding for `utterance_id` is no longer wanted: its utterance ended
        (its final waits) or the pause's speculative final is due (its text comes next)."""
        with self._lock:
            return (
                utterance_id != self._utterance_id
                or not self._in_speech
                or (self._speculation is not None and not self._speculation.started)
            )

    def _decode_partial(
        self,
        utterance_id: int,
        audio: np.ndarray,
        whisper_language: str | None,
        history: tuple[SpokenLanguage, ...],
    ) -> PartialTranscript | None:
        started = self._clock()
        stop = self.settings.stop_partials_for_finals
        transcript = self.transcriber.transcribe(
            audio,
            language=self.language,
            history=history,
            vad_gate=False,
            whisper_language=whisper_language,
            provisional=True,
            cancelled=(lambda: self._partial_superseded(utterance_id)) if stop else None,
        )
        # stopped at a checkpoint (empty, and no longer wanted): its time is no partial's cost
        stopped = stop and not transcript.text and self._partial_superseded(utterance_id)
        if stopped:
            log.info(
                "utterance %d partial stopped for the final after %.0f ms",
                utterance_id,
                (self._clock() - started) * 1000,
            )
        with self._lock:
            if not stopped:
                self._last_partial_cost_s = self._clock() - started
            if utterance_id != self._utterance_id or not self._in_speech:
                return None  # the utterance ended meanwhile; its final supersedes this
            # Whisper's language id is unreliable on the first second or two: lock it (and skip
            # one encoder pass per partial) only once it was decided on enough speech.
            if transcript.detected_language and audio.size >= _LOCK_LANGUAGE_SAMPLES:
                self._partial_language = transcript.detected_language
        if not transcript.text:
            return None
        return PartialTranscript(utterance_id, transcript.text, audio.size / PIPELINE_SAMPLE_RATE)


class AsyncStreamingRecognizer:
    """asyncio face of `StreamingRecognizer`: decoding runs in a worker thread.

    Usage (one per WebSocket), the direct way (what `assistant.session.VoiceSession` does):
        rec = AsyncStreamingRecognizer(StreamingRecognizer(transcriber, sample_rate=16000))
        for event in rec.accept(frame): ...      # VAD now: SpeechStarted, empty finals
        async for event in rec.events(): ...     # in one task: what decoding produced
    `accept` hands the cheap events back to its caller at once (no queue: a barge-in acts on
    SpeechStarted in the same call), and `events()` runs the decoding itself: it waits for
    due work, decodes it in a worker thread (the loop is never blocked) and yields the
    results; no worker task and no event queue sit between the recogniser and its consumer.

    The older push style still works: `await push(frame)` / `await end_of_speech()` keep the
    cheap events for `events()` to yield (before the next decode results), and
    `await aclose()` finishes the utterance, decodes what is pending, then ends `events()`.
    """

    def __init__(self, core: StreamingRecognizer) -> None:
        self.core = core
        self._held: deque[StreamEvent] = deque()  # push-style events, for events() to yield
        self._wake = asyncio.Event()
        self._closing = False
        self._cancelled = False

    def accept(self, pcm: bytes) -> list[StreamEvent]:
        """Feed one frame; its cheap events now. Raises AudioInputError / RecognizerBusyError
        (frame not consumed)."""
        events = self.core.accept(pcm)
        self._wake.set()
        return events

    def mark_end_of_speech(self) -> list[StreamEvent]:
        """Push-to-talk release: the utterance ends now (its final comes from `events()`)."""
        events = self.core.mark_end_of_speech()
        self._wake.set()
        return events

    async def push(self, pcm: bytes) -> None:
        """`accept`, keeping the events for `events()` (the push style)."""
        self._held.extend(self.accept(pcm))

    async def end_of_speech(self) -> None:
        self._held.extend(self.mark_end_of_speech())

    def voiced_s(self) -> float:
        """Seconds of speech in the utterance in progress (barge-in decides on it)."""
        return self.core.voiced_s()

    async def aclose(self) -> None:
        """Finish the current utterance, decode what is pending, then end `events()`."""
        if self._closing:
            return
        self._closing = True
        self._held.extend(self.core.mark_closed())
        self._wake.set()

    async def cancel(self) -> None:
        """Stop at once (the caller hung up): pending decodes are dropped, `events()` ends."""
        self._closing = self._cancelled = True
        self._wake.set()

    async def events(self) -> AsyncIterator[StreamEvent]:
        """Held (push-style) events, then the results of each due decode, as they come.

        Decodes run one at a time in a worker thread; end-of-turn checks run in another,
        beside them, so a decode in flight when the caller stops does not hold the end point
        back (the final then queues behind that decode, or reuses it when it was the pause's
        speculative decode)."""
        decoding: asyncio.Task[list[StreamEvent]] | None = None
        checking: asyncio.Future[list[StreamEvent]] | None = None
        try:
            while not self._cancelled:
                self._wake.clear()
                if self._held:
                    yield self._held.popleft()
                    continue
                if checking is None and self.core.has_pending_turn_check():
                    loop = asyncio.get_running_loop()
                    checking = asyncio.ensure_future(
                        loop.run_in_executor(
                            _turn_check_pool(self.core.turn_settings.check_workers),
                            self.core.check_turn_pending,
                        )
                    )
                if decoding is None and self.core.has_pending_decode(turn_checks=False):
                    decoding = asyncio.create_task(
                        asyncio.to_thread(self.core.decode_pending, turn_checks=False)
                    )
                running = {task for task in (decoding, checking) if task is not None}
                if not running:
                    if self._closing:
                        return
                    await self._wake.wait()
                    continue
                waking = asyncio.create_task(self._wake.wait())
                try:
                    await asyncio.wait(running | {waking}, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    waking.cancel()
                for task in (checking, decoding):
                    if task is None or not task.done():
                        continue
                    if task is checking:
                        checking = None
                    else:
                        decoding = None
                    for event in task.result():
                        if self._cancelled:
                            return
                        yield event
        finally:
            # a thread cannot be stopped: let it finish on its own, its results unused
            for task in (decoding, checking):
                if task is not None and not task.done():
                    task.add_done_callback(_drop_result)


_turn_checks: ThreadPoolExecutor | None = None
_turn_checks_lock = threading.Lock()


def _turn_check_pool(workers: int) -> ThreadPoolExecutor:
    """End-of-turn checks get threads of their own (shared by all streams of the process,
    sized by the first to ask): in asyncio's default pool they could wait behind other
    sessions' decodes and prefills."""
    global _turn_checks
    with _turn_checks_lock:
        if _turn_checks is None:
            _turn_checks = ThreadPoolExecutor(workers, thread_name_prefix="turn-check")
        return _turn_checks


def _drop_result(task: asyncio.Future) -> None:
    if not task.cancelled():
        task.exception()  # retrieved: no "exception was never retrieved" warning
