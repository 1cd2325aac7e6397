"""The speculative final of voices/streaming.py, on a scripted audio timeline.

Loudness VAD (tests/fakes.py) and a transcriber that writes what it heard as the seconds of
audio it was given, so each decode can be told apart: a pause starts a final-settings decode of
the utterance so far; the end of the utterance with no new speech reuses it (one decode in
all); new speech drops it. The real model on real speech: test_streaming_speculative_real.py.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from tests.fakes import FakeTurnDetector, FakeVadModel, frames, silence, tone
from voices.config import StreamingSettings, TurnDetectionSettings
from voices.streaming import AsyncStreamingRecognizer, StreamingRecognizer
from voices.types import PIPELINE_SAMPLE_RATE, PartialTranscript, Transcript, Utterance

FRAME = PIPELINE_SAMPLE_RATE // 50 * 2  # 20 ms of PCM16


@dataclass
class LengthTranscriber:
    """Transcribes audio as its length ("1.49 s"); records each decode (seconds, settings)."""

    finals: list[float] = field(default_factory=list)  # final-settings decodes (not provisional)
    partials: int = 0
    during_decode: Callable[[], None] | None = None  # what the caller does meanwhile

    def transcribe(
        self,
        audio: np.ndarray,
        *,
        language: str | None = None,
        history: Sequence[str] = (),
        vad_gate: bool = True,
        whisper_language: str | None = None,
        provisional: bool = False,
        cancelled: Callable[[], bool] | None = None,
    ) -> Transcript:
        seconds = audio.size / PIPELINE_SAMPLE_RATE
        if provisional:
            self.partials += 1
        else:
            assert vad_gate and whisper_language is None  # exactly the final's settings
            self.finals.append(seconds)
            if self.during_decode is not None:
                action, self.during_decode = self.during_decode, None
                action()
        return Transcript(f"{seconds:.2f} s", "en", "en", 1.0, seconds)


def _recogniser(transcriber, **kwargs) -> StreamingRecognizer:
    streaming = StreamingSettings(
        partials=kwargs.pop("partials", True),
        partial_interval_s=5.0,  # ordinary partials out of the way
        end_silence_ms=700,
        speculative_final=kwargs.pop("speculative_final", True),
        speculative_final_silence_ms=200,
    )
    return StreamingRecognizer(transcriber, vad_model=FakeVadModel(), streaming=streaming, **kwargs)


def _feed(rec: StreamingRecognizer, pcm: bytes) -> list:
    events = []
    for i in range(0, len(pcm), FRAME):
        events += rec.feed(pcm[i : i + FRAME])
    return events


def _candidates(events: list) -> list[PartialTranscript]:
    return [e for e in events if isinstance(e, PartialTranscript) and e.candidate is not None]


def _finals(events: list) -> list[Utterance]:
    return [e for e in events if isinstance(e, Utterance)]


def test_a_pause_then_the_end_reuses_the_speculative_decode() -> None:
    asr = LengthTranscriber()
    rec = _recogniser(asr)
    events = _feed(rec, silence(300) + tone(1200) + silence(1500))
    (candidate,) = _candidates(events)
    (final,) = _finals(events)
    assert len(asr.finals) == 1  # decoded once, at the pause, not again at the end point
    assert final.transcript is candidate.candidate and final.transcript.text == candidate.text
    assert events.index(candidate) < events.index(final)
    assert final.reason == "silence"
    # it heard all the speech and a little of the pause
    assert 1.2 <= asr.finals[0] <= 1.2 + 0.3 + 0.25
    assert (rec.speculative_decodes, rec.speculations_reused, rec.speculations_dropped) == (1, 1, 0)


def test_speech_after_the_pause_drops_the_speculation() -> None:
    asr = LengthTranscriber()
    rec = _recogniser(asr)
    events = _feed(rec, silence(300) + tone(800) + silence(400) + tone(800) + silence(1500))
    candidates, (final,) = _candidates(events), _finals(events)
    assert len(candidates) == 2  # one per pause
    assert asr.finals[0] < 1.4 and asr.finals[1] > 2.0  # the second heard both halves
    assert len(asr.finals) == 2  # the second pause's decode is the final: not a third
    assert final.transcript.text == candidates[-1].text != candidates[0].text
    assert (rec.speculations_reused, rec.speculations_dropped) == (1, 1)


def test_a_short_pause_starts_nothing() -> None:
    asr = LengthTranscriber()
    rec = _recogniser(asr)
    events = _feed(rec, silence(300) + tone(600) + silence(100) + tone(600) + silence(1500))
    assert len(_candidates(events)) == 1 and len(asr.finals) == 1
    assert asr.finals[0] > 1.2  # only the trailing pause, over all the speech


def test_speech_while_the_speculative_decode_runs_discards_its_result() -> None:
    asr2 = LengthTranscriber()
    rec2 = _recogniser(asr2)
    # the caller speaks again while the pause's decode is in progress
    asr2.during_decode = lambda: rec2.accept(tone(300))
    events = _feed(rec2, silence(300) + tone(800) + silence(240))
    assert _candidates(events) == []  # stale: not offered to speculation
    events += _feed(rec2, silence(1500))
    (final,) = _finals(events)
    assert len(asr2.finals) == 2 and asr2.finals[1] > asr2.finals[0]
    assert final.transcript.text == f"{asr2.finals[1]:.2f} s"
    assert rec2.speculations_dropped == 1


def test_a_confident_turn_detector_ends_on_the_speculative_decode() -> None:
    asr = LengthTranscriber()
    detector = FakeTurnDetector(probability=0.9)
    rec = _recogniser(
        asr,
        turn_detector=detector,
        turn_detection=TurnDetectionSettings(check_silence_ms=500, max_silence_ms=1600),
    )
    events = _feed(rec, silence(300) + tone(1200) + silence(1500))
    (final,) = _finals(events)
    assert final.reason == "turn_complete" and len(asr.finals) == 1
    assert rec.speculations_reused == 1 and len(detector.checks) == 1


def test_push_to_talk_release_after_a_pause_reuses_the_decode() -> None:
    asr = LengthTranscriber()
    rec = _recogniser(asr, endpointing=False)
    events = _feed(rec, silence(300) + tone(1000) + silence(600))
    assert len(_candidates(events)) == 1
    (final,) = rec.end_of_speech()
    assert final.reason == "end_of_speech" and len(asr.finals) == 1
    assert final.transcript.text == _candidates(events)[0].text


def test_push_to_talk_release_while_speaking_decodes_at_the_release() -> None:
    asr = LengthTranscriber()
    rec = _recogniser(asr, endpointing=False)
    _feed(rec, silence(300) + tone(600) + silence(400) + tone(600))
    (final,) = rec.end_of_speech()
    assert len(asr.finals) == 2 and final.transcript.text == f"{asr.finals[1]:.2f} s"
    assert rec.speculations_dropped == 1 and rec.speculations_reused == 0


def test_the_end_before_the_speculation_was_taken_decodes_it_once() -> None:
    asr = LengthTranscriber()
    rec = _recogniser(asr, endpointing=False)
    pcm = silence(300) + tone(1000) + silence(400)
    for i in range(0, len(pcm), FRAME):
        rec.accept(pcm[i : i + FRAME])  # VAD only: the speculation is due, not yet decoded
    assert rec.has_pending_decode()
    rec.mark_end_of_speech()
    events = rec.decode_pending()
    assert len(asr.finals) == 1 and _candidates(events) == []
    assert [e.reason for e in _finals(events)] == ["end_of_speech"]


def test_switched_off_the_final_is_decoded_at_the_end_point() -> None:
    asr = LengthTranscriber()
    rec = _recogniser(asr, speculative_final=False)
    events = _feed(rec, silence(300) + tone(1200) + silence(1500))
    assert _candidates(events) == [] and len(_finals(events)) == 1
    assert len(asr.finals) == 1 and rec.speculative_decodes == 0
    assert asr.finals[0] >= 1.2 + 0.3  # the end point's padding, not the pause's


def test_without_partials_the_decode_is_reused_but_not_announced() -> None:
    asr = LengthTranscriber()
    rec = _recogniser(asr, partials=False)
    events = _feed(rec, silence(300) + tone(1200) + silence(1500))
    assert [type(e) for e in events if not isinstance(e, Utterance)][1:] == []
    assert len(asr.finals) == 1 and rec.speculations_reused == 1


async def test_async_wrapper_reuses_the_speculation() -> None:
    asr = LengthTranscriber()
    rec = AsyncStreamingRecognizer(_recogniser(asr))
    received: list = []

    async def consume() -> None:
        async for event in rec.events():
            received.append(event)

    consumer = asyncio.create_task(consume())
    pcm = silence(300) + tone(1200) + silence(1500)
    for i in range(0, len(pcm), FRAME):
        received.extend(rec.accept(pcm[i : i + FRAME]))
        await asyncio.sleep(0)
    await rec.aclose()
    await asyncio.wait_for(consumer, 10)
    assert len(_finals(received)) == 1 and len(asr.finals) == 1
    assert _finals(received)[0].transcript.text == _candidates(received)[0].text


@dataclass
class HeldPartialTranscriber(LengthTranscriber):
    """A LengthTranscriber whose partial decodes wait until the test lets them finish."""

    partial_started: threading.Event = field(default_factory=threading.Event)
    release_partial: threading.Event = field(default_factory=threading.Event)

    def transcribe(self, audio: np.ndarray, **kwargs) -> Transcript:
        if kwargs.get("provisional"):
            self.partial_started.set()
            assert self.release_partial.wait(10), "the test never released the partial"
        return super().transcribe(audio, **kwargs)


@dataclass
class SignallingTurnDetector(FakeTurnDetector):
    asked: threading.Event = field(default_factory=threading.Event)

    def end_probability(self, audio: np.ndarray) -> float:
        probability = super().end_probability(audio)
        self.asked.set()
        return probability


async def test_the_end_of_turn_check_does_not_wait_behind_a_decode_in_flight() -> None:
    # a partial decode is still running when the caller stops: the turn detector is asked
    # (and ends the utterance) meanwhile; the final is decoded once, after the partial
    asr = HeldPartialTranscriber()
    detector = SignallingTurnDetector(probability=0.9)
    core = StreamingRecognizer(
        asr,
        vad_model=FakeVadModel(),
        streaming=StreamingSettings(
            partial_interval_s=0.5, speculative_final=True, speculative_final_silence_ms=200
        ),
        turn_detector=detector,
        turn_detection=TurnDetectionSettings(check_silence_ms=500, max_silence_ms=1600),
    )
    rec = AsyncStreamingRecognizer(core)
    received: list = []

    async def consume() -> None:
        async for event in rec.events():
            received.append(event)

    consumer = asyncio.create_task(consume())
    speech = tone(1000)
    for i in range(0, len(speech), FRAME):
        rec.accept(speech[i : i + FRAME])
        await asyncio.sleep(0)  # the consumer starts the due partial
    assert await asyncio.to_thread(asr.partial_started.wait, 10)
    pause = silence(700)
    for i in range(0, len(pause), FRAME):
        rec.accept(pause[i : i + FRAME])
        await asyncio.sleep(0)
    # the partial is still decoding, yet the check ran and ended the turn
    assert await asyncio.to_thread(detector.asked.wait, 10)
    assert not asr.release_partial.is_set() and asr.finals == []
    asr.release_partial.set()
    await rec.aclose()
    await asyncio.wait_for(consumer, 10)
    (final,) = _finals(received)
    assert final.reason == "turn_complete"
    assert len(asr.finals) == 1 and asr.finals[0] < 1.0 + 0.3 + 0.25  # the speech, not the pause


class DecodeClock:
    """A clock that stands still except while a partial decodes: each costs `cost_s`."""

    def __init__(self, cost_s: float) -> None:
        self.now, self.cost_s = 0.0, cost_s

    def __call__(self) -> float:
        return self.now


def _partials_in_6_s_of_speech(busy_share: float) -> int:
    clock = DecodeClock(1.0)
    asr = LengthTranscriber()

    def transcribe(audio: np.ndarray, **kwargs) -> Transcript:
        if kwargs.get("provisional"):
            clock.now += clock.cost_s  # the decode "takes" 1 s
        return LengthTranscriber.transcribe(asr, audio, **kwargs)

    asr.transcribe = transcribe  # type: ignore[method-assign]
    streaming = StreamingSettings(
        partial_interval_s=0.5, adaptive_partials=True, partial_busy_share=busy_share
    )
    rec = StreamingRecognizer(asr, vad_model=FakeVadModel(), streaming=streaming, clock=clock)
    _feed(rec, silence(300) + tone(6000))
    return asr.partials


def test_partials_leave_the_decoder_idle_for_their_busy_share() -> None:
    # decodes of 1 s: spaced by 1 s when they may keep it busy all the time, by 2 s at half
    always = _partials_in_6_s_of_speech(1.0)
    half = _partials_in_6_s_of_speech(0.5)
    assert 5 <= always <= 7
    assert 2 <= half <= 4 and half < always


def test_a_partial_due_when_the_caller_pauses_waits_for_more_speech() -> None:
    asr = LengthTranscriber()
    streaming = StreamingSettings(partial_interval_s=0.5, adaptive_partials=False)
    rec = StreamingRecognizer(asr, vad_model=FakeVadModel(), streaming=streaming)
    for chunk in frames(silence(300) + tone(700)):
        rec.accept(chunk)  # VAD only: the decoder is busy elsewhere, a partial falls due
    assert rec.has_pending_decode()
    for chunk in frames(silence(100)):
        rec.accept(chunk)
    assert not rec.has_pending_decode() and rec.decode_pending() == []
    assert asr.partials == 0  # not started in the pause
    rec.accept(tone(100))
    events = rec.decode_pending()
    assert asr.partials == 1 and [type(e) for e in events] == [PartialTranscript]
