"""Diarization's small typed interface: who spoke when."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np


class DiarizationError(RuntimeError):
    """A diarization engine cannot run (missing model directory or package, bad input)."""


@dataclass(frozen=True)
class SpeakerTurn:
    start: float  # seconds from the start of the recording
    end: float
    speaker: str  # "S1", "S2", ... or an enrolled name
    overlap: bool = False  # another voice is heard at the same time


@dataclass
class Diarization:
    turns: list[SpeakerTurn]
    speakers: list[str] = field(default_factory=list)  # in order of first appearance
    engine: str = ""

    def speaker_at(self, start: float, end: float) -> str | None:
        """The speaker with the most time inside [start, end] (None when nobody speaks)."""
        totals: dict[str, float] = {}
        for turn in self.turns:
            shared = min(end, turn.end) - max(start, turn.start)
            if shared > 0:
                totals[turn.speaker] = totals.get(turn.speaker, 0.0) + shared
        if not totals:
            return None
        return max(totals, key=totals.__getitem__)

    def nearest_speaker(self, at: float) -> str | None:
        if not self.turns:
            return None
        turn = min(
            self.turns,
            key=lambda t: (
                0.0 if t.start <= at <= t.end else min(abs(at - t.start), abs(at - t.end))
            ),
        )
        return turn.speaker

    def overlapped(self, start: float, end: float) -> bool:
        return any(t.overlap and min(end, t.end) > max(start, t.start) for t in self.turns)


class SpeakerSession(Protocol):
    """One recording's diarization: speech is added as it is found, the result at the end."""

    def add_speech(self, audio: np.ndarray, start_s: float) -> str | None:
        """Add one speech region (16 kHz float32); returns a provisional speaker label, or
        None when the engine decides only at the end."""
        ...

    def finish(self, source: Path | None = None) -> Diarization:
        """The final diarization; `source` is the recording on disk (engines reading files)."""
        ...


@runtime_checkable
class Diarizer(Protocol):
    name: str

    def session(
        self, *, num_speakers: int | None = None, known_voices: dict[str, np.ndarray] | None = None
    ) -> SpeakerSession: ...

    def voiceprint(self, audio: np.ndarray) -> np.ndarray:
        """An enrolment embedding of a few seconds of one known voice."""
        ...
