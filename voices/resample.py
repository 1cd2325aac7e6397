"""Sample-rate conversion to the 16 kHz pipeline rate with soxr (one-shot and streaming)."""

from __future__ import annotations

import numpy as np
import soxr

from voices.types import PIPELINE_SAMPLE_RATE

# Telephone, speech-codec and audio-device rates the widget and the phone gateway send.
SUPPORTED_INPUT_RATES: frozenset[int] = frozenset({8000, 16000, 22050, 24000, 44100, 48000})


class UnsupportedSampleRateError(ValueError):
    """The declared sample rate is not one the speech pipeline accepts."""


def check_rate(sample_rate: int) -> int:
    if sample_rate not in SUPPORTED_INPUT_RATES:
        raise UnsupportedSampleRateError(
            f"sample rate {sample_rate} Hz is not supported; use one of "
            f"{sorted(SUPPORTED_INPUT_RATES)} (16000 is native)"
        )
    return sample_rate


def to_pipeline_rate(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """Resample a whole float32 mono signal to 16 kHz (no-op at 16 kHz)."""
    check_rate(sample_rate)
    audio = np.asarray(audio, dtype=np.float32)
    if sample_rate == PIPELINE_SAMPLE_RATE:
        return audio
    return soxr.resample(audio, sample_rate, PIPELINE_SAMPLE_RATE, quality="HQ").astype(
        np.float32, copy=False
    )


class StreamResampler:
    """Chunk-by-chunk resampling that keeps the filter state between chunks (no clicks)."""

    def __init__(self, sample_rate: int) -> None:
        self.sample_rate = check_rate(sample_rate)
        self._stream = (
            None
            if sample_rate == PIPELINE_SAMPLE_RATE
            else soxr.ResampleStream(sample_rate, PIPELINE_SAMPLE_RATE, 1, dtype="float32")
        )

    def process(self, audio: np.ndarray, *, last: bool = False) -> np.ndarray:
        if self._stream is None:
            return audio
        return self._stream.resample_chunk(audio, last=last)
