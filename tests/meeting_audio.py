"""Meetings built from real single-speaker clips, with their reference turns.

The clips: the shared real-speech fixtures (../shared/fixtures/audio: 0-en.wav and 1-zh.wav,
two different people) and JFK's inaugural-address excerpt committed under
bench/data/meetings/clips (from faster-whisper's tests/data/jfk.flac, MIT; public domain
speech). Silence between turns is digital zero; an overlap adds two clips.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile

from voices.audio_io import read_file_audio
from voices.diarization.metrics import Turn

RATE = 16_000
CLIPS = Path(__file__).resolve().parent.parent / "bench" / "data" / "meetings" / "clips"


@dataclass
class Built:
    path: Path
    reference: list[Turn]
    duration_s: float


def clip(path: Path, start_s: float = 0.0, end_s: float | None = None) -> np.ndarray:
    audio = read_file_audio(path, max_duration_s=600, max_bytes=100_000_000)
    end = audio.size if end_s is None else int(end_s * RATE)
    return audio[int(start_s * RATE) : end]


def build(path: Path, parts: list[tuple[str, np.ndarray, float]], *, gap_s: float = 0.8) -> Built:
    """parts: (speaker, audio, offset) where offset < 0 starts that many seconds before the
    previous part ends (overlap) and >= 0 adds that much silence after `gap_s`."""
    cursor = 0.0
    placed: list[tuple[str, np.ndarray, float]] = []
    for n, (speaker, audio, offset) in enumerate(parts):
        start = cursor + offset if offset < 0 else cursor + (gap_s if n else 0.3) + offset
        placed.append((speaker, audio, start))
        cursor = start + audio.size / RATE
    total = max(s + a.size / RATE for _sp, a, s in placed) + 0.5
    mix = np.zeros(int(total * RATE), dtype=np.float32)
    reference = []
    for speaker, audio, start in placed:
        lo = int(start * RATE)
        mix[lo : lo + audio.size] += audio
        reference.append(Turn(start, start + audio.size / RATE, speaker))
    soundfile.write(path, np.clip(mix, -1, 1), RATE, subtype="PCM_16")
    return Built(path, reference, total)
