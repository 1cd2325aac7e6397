"""Session fixtures of the voices package (real models, loaded once)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from voices.config import VoiceSettings
from voices.types import PIPELINE_SAMPLE_RATE


@pytest.fixture(scope="session")
def voice_settings() -> VoiceSettings:
    """Default voice settings with the shared model cache (SAMYU_CACHE)."""
    cache = Path(os.environ.get("SAMYU_CACHE", "~/.cache/samyu")).expanduser()
    return VoiceSettings(cache=cache)


@pytest.fixture(scope="session")
def vad_model():
    from voices.vad import shared_vad_model

    return shared_vad_model()


@pytest.fixture(scope="session")
def transcriber(voice_settings: VoiceSettings, vad_model):
    """The embedded Whisper base (assembled from its packages and verified), loaded once."""
    from voices.asr.faster_whisper import FasterWhisperTranscriber

    return FasterWhisperTranscriber.from_settings(voice_settings, vad_model=vad_model)


@pytest.fixture(scope="session")
def espeak():
    from voices.tts.espeak import EspeakSynthesizer

    return EspeakSynthesizer()


@pytest.fixture(scope="session")
def piper():
    from voices.tts.piper import PiperSynthesizer

    return PiperSynthesizer()


@pytest.fixture(scope="session")
def load_clip(shared_audio: Path):
    """Read a shared fixture clip as 16 kHz float32 (resampled when it is not 16 kHz)."""
    from voices.audio_io import read_file_audio

    cache: dict[str, np.ndarray] = {}

    def load(name: str) -> np.ndarray:
        if name not in cache:
            cache[name] = read_file_audio(
                shared_audio / name, max_duration_s=60, max_bytes=50_000_000
            )
        return cache[name]

    return load


def seconds(audio: np.ndarray) -> float:
    return audio.size / PIPELINE_SAMPLE_RATE
