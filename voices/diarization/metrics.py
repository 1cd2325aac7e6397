"""Diarization error rate (DER) and RTTM reading, for benchmarks and tests.

DER = (missed speech + false alarm + speaker confusion) / reference speech, scored on 10 ms
frames inside the scored region (UEM), with the usual forgiveness collar around every
reference boundary (0.25 s each side is the common choice; 0 scores everything), and the
reference <-> hypothesis speaker mapping that maximises agreement (Hungarian). Overlapped
reference speech counts once per speaker, as in NIST md-eval.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.optimize import linear_sum_assignment

_STEP = 0.01


@dataclass(frozen=True)
class Turn:
    start: float
    end: float
    speaker: str


@dataclass(frozen=True)
class DerReport:
    der: float
    missed: float  # seconds
    false_alarm: float
    confusion: float
    reference: float  # seconds of reference speech scored
    ref_speakers: int
    hyp_speakers: int


def read_rttm(path: Path) -> dict[str, list[Turn]]:
    """uri -> turns of a NIST RTTM file (SPEAKER lines)."""
    turns: dict[str, list[Turn]] = {}
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        fields = line.split()
        if len(fields) >= 8 and fields[0] == "SPEAKER":
            start, duration = float(fields[3]), float(fields[4])
            turns.setdefault(fields[1], []).append(Turn(start, start + duration, fields[7]))
    return turns


def write_rttm(uri: str, turns: Iterable[Turn]) -> str:
    return "".join(
        f"SPEAKER {uri} 1 {t.start:.3f} {t.end - t.start:.3f} <NA> <NA> {t.speaker} <NA> <NA>\n"
        for t in turns
    )


def _matrix(turns: Iterable[Turn], n: int, speakers: list[str]) -> np.ndarray:
    active = np.zeros((len(speakers), n), dtype=bool)
    index = {s: i for i, s in enumerate(speakers)}
    for t in turns:
        lo, hi = max(0, round(t.start / _STEP)), min(n, round(t.end / _STEP))
        if hi > lo:
            active[index[t.speaker], lo:hi] = True
    return active


def diarization_error(
    reference: list[Turn],
    hypothesis: list[Turn],
    *,
    collar: float = 0.25,
    scored: tuple[float, float] | None = None,
) -> DerReport:
    end = scored[1] if scored else max([t.end for t in reference + hypothesis] + [0.0])
    start = scored[0] if scored else 0.0
    n = int(np.ceil(end / _STEP)) + 1
    mask = np.zeros(n, dtype=bool)
    mask[round(start / _STEP) : round(end / _STEP)] = True
    for t in reference:  # forgive the collar around each reference boundary
        for edge in (t.start, t.end):
            lo, hi = round((edge - collar) / _STEP), round((edge + collar) / _STEP)
            if collar > 0:
                mask[max(0, lo) : max(0, hi)] = False
    ref_speakers = sorted({t.speaker for t in reference})
    hyp_speakers = sorted({t.speaker for t in hypothesis})
    ref = _matrix(reference, n, ref_speakers)[:, mask]
    hyp = _matrix(hypothesis, n, hyp_speakers)[:, mask]
    n_ref, n_hyp = ref.sum(axis=0), hyp.sum(axis=0)
    correct = np.zeros(ref.shape[1])
    if ref_speakers and hyp_speakers:
        agreement = ref.astype(np.int32) @ hyp.T.astype(np.int32)
        rows, cols = linear_sum_assignment(-agreement)
        for r, c in zip(rows, cols, strict=True):
            correct += ref[r] & hyp[c]
    missed = np.maximum(n_ref - n_hyp, 0).sum() * _STEP
    false_alarm = np.maximum(n_hyp - n_ref, 0).sum() * _STEP
    confusion = (np.minimum(n_ref, n_hyp) - correct).sum() * _STEP
    total = n_ref.sum() * _STEP
    der = (missed + false_alarm + confusion) / total if total else 0.0
    return DerReport(
        round(float(der), 4),
        round(float(missed), 2),
        round(float(false_alarm), 2),
        round(float(confusion), 2),
        round(float(total), 2),
        len(ref_speakers),
        len(hyp_speakers),
    )
