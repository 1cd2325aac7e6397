"""A partial still decoding when the utterance ends (voices/streaming.py), on a scripted timeline.

The push-to-talk release, or the pause's speculative final, used to queue the final behind the
whole partial in flight (1.6-3.6 s instead of 1.0-1.4 s after the release on 2 cores). A
partial now stops at its next checkpoint (the real recogniser asks `cancelled` around each
Whisper encoder pass: test_streaming_release_real.py), so the final waits only for the rest of
the stage in progress. The transcriber here spends set times on a scripted clock: a partial is
two stages with a checkpoint between them; the test acts (speaks on, releases) midway through
the first stage.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pytest

from tests.fakes import FakeVadModel, ManualClock, silence, tone
from voices.config import StreamingSettings
from voices.streaming import StreamingRecognizer
from voices.types import PIPELINE_SAMPLE_RATE, PartialTranscript, Transcript, Utterance

STAGE_ONE_S, STAGE_TWO_S, FINAL_S = 0.4, 0.6, 1.0


@dataclass
class StagedTranscriber:
    """Writes the seconds of audio it was given; a partial costs two stages on `clock`, the
    first partial pausing midway through its first stage until the test says go on."""

    clock: ManualClock
    midway: threading.Event = field(default_factory=threading.Event)
    go_on: threading.Event = field(default_factory=threading.Event)
    finals: list[float] = field(default_factory=list)
    partials_stopped: int = 0
    partials_finished: int = 0

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
        if not provisional:
            self.clock.advance(FINAL_S)
            self.finals.append(seconds)
            return Transcript(f"{seconds:.2f} s", "en", "en", 1.0, seconds)
        self.clock.advance(STAGE_ONE_S / 2)
        if not self.midway.is_set():
            self.midway.set()
            assert self.go_on.wait(timeout=30), "the test never let the partial go on"
        self.clock.advance(STAGE_ONE_S / 2)
        if cancelled is not None and cancelled():
            self.partials_stopped += 1
            return Transcript("", "en", "", 0.0, seconds)
        self.clock.advance(STAGE_TWO_S)
        self.partials_finished += 1
        return Transcript(f"partial {seconds:.2f} s", "en", "en", 1.0, seconds)


def _recogniser(
    asr: StagedTranscriber, *, endpointing: bool, stop: bool = True
) -> StreamingRecognizer:
    streaming = StreamingSettings(
        partial_interval_s=0.5,
        adaptive_partials=False,
        end_silence_ms=700,
        speculative_final=True,
        speculative_final_silence_ms=200,
        stop_partials_for_finals=stop,
    )
    return StreamingRecognizer(
        asr,
        vad_model=FakeVadModel(),
        streaming=streaming,
        endpointing=endpointing,
        clock=asr.clock,
    )


def _partial_in_flight(
    rec: StreamingRecognizer, asr: StagedTranscriber, while_decoding: Callable[[], list]
) -> list:
    """Speak 1 s (a partial falls due), decode it in a thread, act midway through its first
    stage, let it go on; the events of the act and of the partial's decode."""
    events = rec.accept(silence(300) + tone(1000))
    assert rec.has_pending_decode()
    decoded: list = []
    worker = threading.Thread(target=lambda: decoded.extend(rec.decode_pending()))
    worker.start()
    assert asr.midway.wait(timeout=30)
    events += while_decoding()
    asr.go_on.set()
    worker.join(timeout=30)
    assert not worker.is_alive()
    return events + decoded


def _finals(events: list) -> list[Utterance]:
    return [e for e in events if isinstance(e, Utterance)]


@pytest.mark.parametrize("stop", [True, False])
def test_a_release_during_a_partial_does_not_wait_for_the_rest_of_it(stop: bool) -> None:
    asr = StagedTranscriber(ManualClock())
    rec = _recogniser(asr, endpointing=False, stop=stop)

    def speak_on_then_release() -> list:
        # the caller says 200 ms more than the partial heard, pauses briefly, releases
        return rec.accept(tone(200) + silence(300)) + rec.mark_end_of_speech()

    events = _partial_in_flight(rec, asr, speak_on_then_release)
    events += rec.decode_pending()
    (final,) = _finals(events)
    assert final.reason == "end_of_speech"
    # the final heard all the speech, the words after the partial's audio included
    (heard,) = asr.finals
    assert heard >= 1.2 and final.transcript.text == f"{heard:.2f} s"
    assert not [e for e in events if isinstance(e, PartialTranscript)]  # superseded
    if stop:  # the rest of stage one, then the final: not the partial's second stage
        assert (asr.partials_stopped, asr.partials_finished) == (1, 0)
        assert final.end_latency_s == pytest.approx(STAGE_ONE_S / 2 + FINAL_S)
    else:  # the old way: the whole partial first
        assert (asr.partials_stopped, asr.partials_finished) == (0, 1)
        assert final.end_latency_s == pytest.approx(STAGE_ONE_S / 2 + STAGE_TWO_S + FINAL_S)


def test_the_pause_decode_starts_when_the_partial_stops_and_is_the_final() -> None:
    asr = StagedTranscriber(ManualClock())
    rec = _recogniser(asr, endpointing=True)
    # the caller pauses midway through the partial: the speculative final falls due
    events = _partial_in_flight(rec, asr, lambda: rec.accept(silence(240)))
    assert asr.partials_stopped == 1 and asr.partials_finished == 0
    pause_decode_at = asr.clock()
    events += rec.decode_pending()  # the speculative final, at once
    assert asr.clock() - pause_decode_at == pytest.approx(FINAL_S)
    events += rec.feed(silence(800))  # the end point: that decode is the final
    (final,) = _finals(events)
    assert final.reason == "silence" and len(asr.finals) == 1
    assert final.transcript.text == f"{asr.finals[0]:.2f} s" and asr.finals[0] >= 1.0
    assert rec.speculations_reused == 1


def test_a_partial_the_caller_speaks_through_runs_to_its_end() -> None:
    asr = StagedTranscriber(ManualClock())
    rec = _recogniser(asr, endpointing=True)
    events = _partial_in_flight(rec, asr, lambda: rec.accept(tone(300)))
    (partial,) = [e for e in events if isinstance(e, PartialTranscript)]
    assert partial.text.startswith("partial ")
    assert (asr.partials_stopped, asr.partials_finished) == (0, 1)
    assert not _finals(events)
