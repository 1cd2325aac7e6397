"""PCM conversion, file decoding with limits, and sample-rate handling."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile

from voices.audio_io import (
    AudioInputError,
    float_to_pcm16,
    iter_file_audio,
    pcm16_to_float,
    read_file_audio,
)
from voices.resample import (
    SUPPORTED_INPUT_RATES,
    StreamResampler,
    UnsupportedSampleRateError,
    to_pipeline_rate,
)

LIMITS = {"max_duration_s": 60.0, "max_bytes": 50_000_000}


def test_pcm16_round_trip() -> None:
    audio = np.array([0.0, 0.5, -0.5, 0.999], np.float32)
    assert np.allclose(pcm16_to_float(float_to_pcm16(audio)), audio, atol=1e-4)


def test_odd_pcm_length_is_refused() -> None:
    with pytest.raises(AudioInputError, match="even"):
        pcm16_to_float(b"\x00\x01\x02")


def test_8k_fixture_is_resampled_to_16k(shared_audio: Path) -> None:
    audio = read_file_audio(shared_audio / "8k-en.wav", **LIMITS)
    assert audio.dtype == np.float32
    assert abs(audio.size - 38_600 * 2) < 400  # 4.83 s at 16 kHz


@pytest.mark.parametrize(("fmt", "subtype"), [("FLAC", "PCM_16"), ("WAV", "FLOAT")])
def test_other_formats_and_rates_decode(tmp_path: Path, fmt: str, subtype: str) -> None:
    t = np.arange(44_100) / 44_100
    path = tmp_path / f"tone.{fmt.lower()}"
    soundfile.write(
        path,
        np.stack([np.sin(2 * np.pi * 440 * t)] * 2, 1) * 0.3,
        44_100,
        format=fmt,
        subtype=subtype,
    )
    audio = read_file_audio(path, **LIMITS)
    assert abs(audio.size - 16_000) < 200  # one second, stereo mixed to mono
    assert 0.15 < np.abs(audio).max() < 0.35


def test_mp3_decodes(tmp_path: Path) -> None:
    path = tmp_path / "tone.mp3"
    t = np.arange(16_000) / 16_000
    try:
        soundfile.write(path, 0.3 * np.sin(2 * np.pi * 300 * t), 16_000, format="MP3")
    except (soundfile.LibsndfileError, TypeError, ValueError) as exc:
        pytest.skip(f"this libsndfile cannot write MP3 to make the fixture: {exc}")
    audio = read_file_audio(path, **LIMITS)
    assert 0.9 < audio.size / 16_000 < 1.2


def test_corrupt_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.wav"
    path.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunkjunkjunk" * 10)
    with pytest.raises(AudioInputError, match=r"broken\.wav"):
        read_file_audio(path, **LIMITS)


def test_missing_and_empty_files_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(AudioInputError, match="no such file"):
        read_file_audio(tmp_path / "nope.wav", **LIMITS)
    empty = tmp_path / "empty.wav"
    soundfile.write(empty, np.zeros(0, np.float32), 16_000)
    with pytest.raises(AudioInputError):
        read_file_audio(empty, **LIMITS)


def test_over_long_file_is_refused_before_decoding(tmp_path: Path) -> None:
    path = tmp_path / "long.wav"
    soundfile.write(path, np.zeros(16_000 * 5, np.float32), 16_000)
    with pytest.raises(AudioInputError, match="maximum"):
        next(iter_file_audio(path, max_duration_s=2.0, max_bytes=10**9))


def test_oversized_upload_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "big.wav"
    soundfile.write(path, np.zeros(16_000, np.float32), 16_000)
    with pytest.raises(AudioInputError, match="limit"):
        read_file_audio(path, max_duration_s=60, max_bytes=1000)


def test_files_come_in_bounded_blocks(tmp_path: Path) -> None:
    path = tmp_path / "minute.wav"
    soundfile.write(path, np.zeros(16_000 * 60, np.float32), 16_000)
    sizes = [b.size for b in iter_file_audio(path, max_duration_s=120, max_bytes=10**9, block_s=10)]
    assert sum(sizes) == 16_000 * 60
    assert max(sizes) <= 16_000 * 11


@pytest.mark.parametrize("rate", [0, 11_025, 32_000, 96_000, -16_000])
def test_unsupported_rates_are_a_value_error(rate: int) -> None:
    with pytest.raises(UnsupportedSampleRateError, match="not supported"):
        StreamResampler(rate)
    with pytest.raises(ValueError):
        to_pipeline_rate(np.zeros(100, np.float32), rate)


@pytest.mark.parametrize("rate", sorted(SUPPORTED_INPUT_RATES))
def test_streamed_resampling_matches_the_duration(rate: int) -> None:
    t = np.arange(rate) / rate
    audio = (0.3 * np.sin(2 * np.pi * 300 * t)).astype(np.float32)
    stream = StreamResampler(rate)
    pieces = [stream.process(audio[i : i + 333]) for i in range(0, audio.size, 333)]
    pieces.append(stream.process(np.zeros(0, np.float32), last=True))
    out = np.concatenate(pieces)
    assert abs(out.size - 16_000) <= 2
    assert np.allclose(out[2000:14000], to_pipeline_rate(audio, rate)[2000:14000], atol=1e-3)


def test_nan_samples_in_a_float_file_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "nan.wav"
    audio = np.zeros(16_000, np.float32)
    audio[100] = np.nan
    soundfile.write(path, audio, 16_000, subtype="FLOAT")
    with pytest.raises(AudioInputError, match="NaN"):
        read_file_audio(path, **LIMITS)
