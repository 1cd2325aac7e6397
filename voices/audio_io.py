"""Audio in: PCM16 frames and wav/flac/mp3 files to float32 mono at 16 kHz, checked.

Files are decoded incrementally with PyAV (FFmpeg; what faster_whisper.decode_audio uses) so
a long file never sits in memory twice; anything longer than the configured maximum is
refused with a clear error before the speech pipeline spends time on it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import av
import numpy as np

from voices.types import PIPELINE_SAMPLE_RATE


class AudioInputError(ValueError):
    """Audio that cannot be used: empty, corrupt, non-finite, too long, or too large."""


def pcm16_to_float(pcm: bytes) -> np.ndarray:
    """Little-endian PCM16 mono bytes (even length) -> float32 in [-1, 1)."""
    if len(pcm) % 2:
        raise AudioInputError("PCM16 data must have an even number of bytes")
    return np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0


def float_to_pcm16(audio: np.ndarray) -> bytes:
    clipped = np.clip(np.nan_to_num(audio, nan=0.0), -1.0, 1.0)
    return (clipped * 32767.0).astype("<i2").tobytes()


def check_samples(audio: np.ndarray) -> np.ndarray:
    """Reject what would make Whisper or the VAD produce garbage: empty, NaN/inf, not mono."""
    audio = np.asarray(audio)
    if audio.ndim != 1:
        raise AudioInputError(f"expected mono audio (1-D), got shape {audio.shape}")
    if audio.size == 0:
        raise AudioInputError("audio is empty")
    if not np.issubdtype(audio.dtype, np.floating):
        raise AudioInputError(f"expected float samples, got {audio.dtype}")
    if not np.all(np.isfinite(audio)):
        raise AudioInputError("audio contains NaN or infinite samples")
    return audio.astype(np.float32, copy=False)


def iter_file_audio(
    path: Path, *, max_duration_s: float, max_bytes: int, block_s: float = 10.0
) -> Iterator[np.ndarray]:
    """Decode a wav/flac/mp3/... file as 16 kHz float32 mono blocks of about `block_s`.

    Raises AudioInputError for a missing, oversized, corrupt, silent-empty or over-long file.
    """
    path = Path(path)
    if not path.is_file():
        raise AudioInputError(f"{path}: no such file")
    if path.stat().st_size > max_bytes:
        raise AudioInputError(f"{path}: {path.stat().st_size} bytes is over the {max_bytes} limit")
    try:
        container = av.open(str(path), mode="r", metadata_errors="ignore")
    except (av.FFmpegError, UnicodeDecodeError) as exc:
        raise AudioInputError(f"{path}: not a readable audio file ({exc})") from exc
    with container:
        if not container.streams.audio:
            raise AudioInputError(f"{path}: has no audio stream")
        declared = _declared_duration_s(container)
        if declared is not None and declared > max_duration_s:
            raise AudioInputError(
                f"{path}: {declared:.0f} s is longer than the {max_duration_s:.0f} s maximum "
                "(voices.files.max_file_duration_s)"
            )
        yield from _decode_blocks(container, path, max_duration_s, block_s)


def _declared_duration_s(container: av.container.InputContainer) -> float | None:
    if container.duration is not None and container.duration > 0:
        return container.duration / 1_000_000  # av.time_base
    stream = container.streams.audio[0]
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    return None


def _decode_blocks(
    container: av.container.InputContainer, path: Path, max_duration_s: float, block_s: float
) -> Iterator[np.ndarray]:
    # keep the channels (planar) and average them: FFmpeg's own stereo->mono downmix adds
    # the channels at -3 dB each, which can push a loud stereo file past full scale
    resampler = av.AudioResampler(format="fltp", rate=PIPELINE_SAMPLE_RATE)
    block_samples = int(block_s * PIPELINE_SAMPLE_RATE)
    limit = int(max_duration_s * PIPELINE_SAMPLE_RATE)
    pending: list[np.ndarray] = []
    pending_n = total = 0
    try:
        for frame in container.decode(audio=0):
            frame.pts = None  # let the resampler ignore gaps in timestamps
            for out in resampler.resample(frame):
                samples = _mono(out)
                total += samples.size
                if total > limit:
                    raise AudioInputError(
                        f"{path}: longer than the {max_duration_s:.0f} s maximum "
                        "(voices.files.max_file_duration_s)"
                    )
                pending.append(samples)
                pending_n += samples.size
                if pending_n >= block_samples:
                    yield _checked_block(pending, path)
                    pending, pending_n = [], 0
        for out in resampler.resample(None):
            pending.append(_mono(out))
    except av.FFmpegError as exc:
        raise AudioInputError(f"{path}: corrupt audio ({exc})") from exc
    if pending:
        yield _checked_block(pending, path)
    elif total == 0:
        raise AudioInputError(f"{path}: contains no audio samples")


def _mono(frame: av.AudioFrame) -> np.ndarray:
    planes = frame.to_ndarray()  # (channels, samples) for a planar format
    return planes.mean(axis=0, dtype=np.float32) if planes.shape[0] > 1 else planes[0]


def _checked_block(parts: list[np.ndarray], path: Path) -> np.ndarray:
    block = np.concatenate(parts)
    if not np.all(np.isfinite(block)):
        raise AudioInputError(f"{path}: decoded samples contain NaN or infinity")
    return block


def read_file_audio(path: Path, *, max_duration_s: float, max_bytes: int) -> np.ndarray:
    """A whole (bounded) file as one 16 kHz float32 array."""
    blocks = list(iter_file_audio(path, max_duration_s=max_duration_s, max_bytes=max_bytes))
    return check_samples(np.concatenate(blocks))
