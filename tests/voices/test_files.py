"""File transcription: one window, many utterances, and the bounds."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import numpy as np
import pytest
import soundfile

from voices.audio_io import AudioInputError
from voices.config import FileSettings
from voices.files import transcribe_file

pytestmark = pytest.mark.slow
SR = 16_000


def test_a_short_file_is_one_utterance(transcriber, shared_audio: Path) -> None:
    result = transcribe_file(shared_audio / "8k-en.wav", transcriber)
    assert result.language == "en"
    assert "apprehension" in result.text.lower()
    assert 4.7 < result.duration_s < 5.0


def test_a_long_file_is_cut_into_utterances(transcriber, load_clip, tmp_path: Path) -> None:
    gap = np.zeros(SR * 2, np.float32)
    parts = [load_clip("0-en.wav"), gap, load_clip("8k-en.wav"), gap] * 3
    path = tmp_path / "meeting.flac"
    soundfile.write(path, np.concatenate(parts), SR)
    result = transcribe_file(path, transcriber, files=FileSettings(chunk_s=10))
    assert result.duration_s > 40
    assert result.language == "en"
    assert result.text.lower().count("nightfall") == 3
    assert result.text.lower().count("apprehension") == 3


def test_long_silence_is_bounded_and_empty(transcriber, tmp_path: Path) -> None:
    path = tmp_path / "ten-minutes.flac"
    soundfile.write(path, np.zeros(SR * 600, np.int16), SR, subtype="PCM_16")
    tracemalloc.start()
    try:
        result = transcribe_file(path, transcriber)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.text == ""
    assert result.duration_s == pytest.approx(600, abs=0.1)
    assert peak < 20_000_000  # the whole file decoded would be 38 MB of float32


def test_over_long_files_are_refused(transcriber, tmp_path: Path) -> None:
    path = tmp_path / "two-hours-for-this-limit.flac"
    soundfile.write(path, np.zeros(SR * 40, np.int16), SR, subtype="PCM_16")
    with pytest.raises(AudioInputError, match="max_file_duration_s"):
        transcribe_file(path, transcriber, files=FileSettings(max_file_duration_s=30))
