"""The speculative final with the real Silero VAD and real Whisper on real speech (slow).

The scripted-timeline logic is in test_streaming_speculative.py; here: the decode started in
the trailing pause is the final (no second decode) and is as right as a final; a pause inside
the utterance drops its decode and the final hears all the speech. Time saved is measured by
bench/server_latency.py, not asserted.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pytest

from voices.audio_io import float_to_pcm16
from voices.config import StreamingSettings
from voices.scoring import cer, wer
from voices.streaming import StreamingRecognizer
from voices.types import PartialTranscript, Transcript, Utterance

pytestmark = pytest.mark.slow
SR = 16_000
FRAME = 640  # 20 ms of PCM16


@dataclass
class CountingTranscriber:
    """The real transcriber, counting the decodes made with the final's settings."""

    inner: object
    finals: list[float] = field(default_factory=list)

    def transcribe(self, audio: np.ndarray, **kwargs) -> Transcript:
        if not kwargs.get("provisional", False):
            self.finals.append(audio.size / SR)
        return self.inner.transcribe(audio, **kwargs)  # type: ignore[attr-defined]


def _run(
    transcriber, vad_model, audio: np.ndarray, after_s: float = 1.5, **streaming
) -> tuple[StreamingRecognizer, list]:
    settings = StreamingSettings(
        partial_interval_s=30.0, adaptive_partials=False, speculative_final=True, **streaming
    )
    rec = StreamingRecognizer(transcriber, vad_model=vad_model, streaming=settings)
    pcm = float_to_pcm16(
        np.concatenate(
            [np.zeros(SR // 2, np.float32), audio, np.zeros(int(SR * after_s), np.float32)]
        )
    )
    events = []
    for i in range(0, len(pcm), FRAME):
        events += rec.feed(pcm[i : i + FRAME])
    return rec, events


def _candidates(events: list) -> list[PartialTranscript]:
    return [e for e in events if isinstance(e, PartialTranscript) and e.candidate is not None]


def test_the_pause_decode_is_the_final(transcriber, vad_model, load_clip, shared_transcripts):
    counting = CountingTranscriber(transcriber)
    rec, events = _run(counting, vad_model, load_clip("0-en.wav"))
    (final,) = [e for e in events if isinstance(e, Utterance)]
    assert rec.speculations_reused == 1
    assert len(counting.finals) == rec.speculative_decodes  # none again at the end point
    assert final.transcript.text == _candidates(events)[-1].text
    assert final.transcript.language == "en"
    assert wer(shared_transcripts["0-en.wav"]["text"], final.transcript.text) <= 0.15


def test_a_pause_inside_drops_its_decode(transcriber, vad_model, load_clip, shared_transcripts):
    clip = load_clip("1-zh.wav")
    gap = np.zeros(SR * 6 // 10, np.float32)  # a thinking pause, shorter than the end point
    audio = np.concatenate([clip[: SR * 2], gap, clip[SR * 2 :]])
    counting = CountingTranscriber(transcriber)
    rec, events = _run(counting, vad_model, audio, after_s=2.5, end_silence_ms=2000)
    finals = [e for e in events if isinstance(e, Utterance)]
    assert len(finals) == 1, finals
    final = finals[0]
    assert rec.speculations_dropped >= 1 and rec.speculations_reused == 1
    assert counting.finals[-1] > counting.finals[0] + 1.0  # the final heard both parts
    assert final.transcript.language == "cmn"
    assert cer(shared_transcripts["1-zh.wav"]["text"], final.transcript.text) <= 0.35
