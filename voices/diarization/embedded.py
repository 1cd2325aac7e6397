"""The embedded diarizer: voice embeddings of sliding windows over speech, clustered.

Each speech region (from the meeting's VAD) is cut into windows (`window_s`, hop `step_s`);
each window gets a voice embedding (GE2E by default). At the end, average-linkage
agglomerative clustering on cosine distance groups the windows into speakers: stopped at
`distance_threshold` when the count is unknown, or at the expected count. Tiny clusters are
merged into their nearest neighbour; every 0.1 s of speech takes the label of the nearest
window; short runs join a neighbour. Memory: one 256-d vector per window (1 KB), and the
clustering sees at most `max_cluster_windows` of them (the rest are assigned to centroids).

During live capture `add_speech` also returns a provisional label (nearest running centroid,
or a new speaker), superseded by the final clustering.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np
from sklearn.cluster import AgglomerativeClustering

from voices.diarization.config import DiarizationSettings
from voices.diarization.types import Diarization, SpeakerTurn
from voices.types import PIPELINE_SAMPLE_RATE

_FRAME_S = 0.1


class SpeakerEmbedder(Protocol):
    name: str

    def embed_windows(
        self, audio: np.ndarray, window_s: float, step_s: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """(start offsets in seconds, unit vectors) of the windows covering `audio`."""
        ...


class Ge2eEmbedder:
    name = "ge2e"

    def __init__(self, threads: int = 1) -> None:
        from voices.diarization.ge2e import Ge2eEncoder

        self.encoder = Ge2eEncoder(threads=threads)

    def embed_windows(
        self, audio: np.ndarray, window_s: float, step_s: float
    ) -> tuple[np.ndarray, np.ndarray]:
        from voices.diarization.ge2e import sliding_windows

        mel = self.encoder.mel_frames(audio)
        windows = sliding_windows(mel, round(window_s * 100), max(1, round(step_s * 100)))
        vectors = self.encoder.embed_frames(np.stack([w for _s, w in windows]))
        return np.array([s / 100 for s, _w in windows]), vectors


@dataclass
class _Region:
    start: float
    end: float


class EmbeddingDiarizer:
    def __init__(self, embedder: SpeakerEmbedder, settings: DiarizationSettings) -> None:
        self.embedder = embedder
        self.settings = settings
        self.name = f"embedded-{embedder.name}"

    @classmethod
    def from_settings(cls, settings: DiarizationSettings) -> EmbeddingDiarizer:
        if settings.speaker_embedding_onnx is not None:
            from voices.diarization.onnx_embedder import OnnxFbankEmbedder

            return cls(
                OnnxFbankEmbedder(settings.speaker_embedding_onnx, settings.threads), settings
            )
        return cls(Ge2eEmbedder(settings.threads), settings)

    def session(
        self, *, num_speakers: int | None = None, known_voices: dict[str, np.ndarray] | None = None
    ) -> EmbeddingSession:
        return EmbeddingSession(self, num_speakers, known_voices or {})

    def voiceprint(self, audio: np.ndarray) -> np.ndarray:
        _starts, vectors = self.embedder.embed_windows(
            audio, self.settings.window_s, self.settings.step_s
        )
        return _unit(vectors.mean(axis=0))


@dataclass
class EmbeddingSession:
    diarizer: EmbeddingDiarizer
    num_speakers: int | None
    known_voices: dict[str, np.ndarray]
    regions: list[_Region] = field(default_factory=list)
    times: list[np.ndarray] = field(default_factory=list)  # window centres
    vectors: list[np.ndarray] = field(default_factory=list)
    _centroids: list[np.ndarray] = field(default_factory=list)
    _counts: list[int] = field(default_factory=list)

    def add_speech(self, audio: np.ndarray, start_s: float) -> str | None:
        settings = self.diarizer.settings
        duration = audio.size / PIPELINE_SAMPLE_RATE
        if duration < 0.2:
            return None
        self.regions.append(_Region(start_s, start_s + duration))
        offsets, vectors = self.diarizer.embedder.embed_windows(
            audio, settings.window_s, settings.step_s
        )
        centres = start_s + np.minimum(offsets + settings.window_s / 2, duration / 2 + offsets)
        self.times.append(centres.astype(np.float64))
        self.vectors.append(vectors.astype(np.float32))
        return self._provisional(_unit(vectors.mean(axis=0)))

    def _provisional(self, vector: np.ndarray) -> str:
        """Online labels for live capture: nearest running centroid, or a new speaker."""
        limit = 1.0 - self.diarizer.settings.distance_threshold
        if self._centroids:
            sims = np.array([float(vector @ _unit(c)) for c in self._centroids])
            best = int(np.argmax(sims))
            if sims[best] >= limit or len(self._centroids) >= self.diarizer.settings.max_speakers:
                self._centroids[best] = self._centroids[best] + vector
                self._counts[best] += 1
                return f"S{best + 1}"
        self._centroids.append(vector.copy())
        self._counts.append(1)
        return f"S{len(self._centroids)}"

    def finish(self, source: Path | None = None) -> Diarization:
        if not self.vectors:
            return Diarization([], [], self.diarizer.name)
        times = np.concatenate(self.times)
        vectors = np.concatenate(self.vectors)
        labels = cluster(vectors, self.num_speakers, self.diarizer.settings)
        centroids = {k: _unit(vectors[labels == k].mean(axis=0)) for k in np.unique(labels)}
        overlapped = self._overlapped(vectors, labels, centroids)
        turns = self._turns(times, labels, overlapped)
        names = self._names(turns, centroids)
        turns = [SpeakerTurn(t.start, t.end, names[t.speaker], t.overlap) for t in turns]
        speakers = list(dict.fromkeys(t.speaker for t in turns))
        return Diarization(turns, speakers, self.diarizer.name)

    def _overlapped(
        self, vectors: np.ndarray, labels: np.ndarray, centroids: dict[int, np.ndarray]
    ) -> np.ndarray:
        settings = self.diarizer.settings
        if not settings.mark_overlap or len(centroids) < 2:
            return np.zeros(len(vectors), dtype=bool)
        matrix = np.stack(list(centroids.values()))
        sims = np.sort(vectors @ matrix.T, axis=1)
        best, second = sims[:, -1], sims[:, -2]
        return (best - second <= settings.overlap_margin) & (second >= settings.overlap_floor)

    def _turns(
        self, times: np.ndarray, labels: np.ndarray, overlapped: np.ndarray
    ) -> list[SpeakerTurn]:
        """Frame labels inside each speech region from the nearest window; runs -> turns."""
        settings = self.diarizer.settings
        order = np.argsort(times)
        times, labels, overlapped = times[order], labels[order], overlapped[order]
        turns: list[SpeakerTurn] = []
        for region in self.regions:
            frames = np.arange(region.start, region.end, _FRAME_S) + _FRAME_S / 2
            if frames.size == 0:
                continue
            nearest = _nearest(times, frames)
            runs = _runs(labels[nearest], overlapped[nearest], settings.min_turn_s / _FRAME_S)
            for first, last, label, overlap in runs:
                start = region.start + first * _FRAME_S
                end = min(region.end, region.start + (last + 1) * _FRAME_S)
                turns.append(SpeakerTurn(start, end, str(label), overlap))
        return _merge_adjacent(turns)

    def _names(self, turns: list[SpeakerTurn], centroids: dict[int, np.ndarray]) -> dict[str, str]:
        """S1, S2... in order of first speech; enrolled voices by name when close enough."""
        order = list(dict.fromkeys(t.speaker for t in turns))
        names = {label: f"S{n + 1}" for n, label in enumerate(order)}
        threshold = self.diarizer.settings.enrol_threshold
        taken: set[str] = set()
        pairs = sorted(
            (
                (float(centroids[int(label)] @ _unit(voice)), label, name)
                for label in order
                for name, voice in self.known_voices.items()
            ),
            reverse=True,
        )
        named: set[str] = set()
        for similarity, label, name in pairs:
            if similarity >= threshold and name not in taken and label not in named:
                names[label] = name
                taken.add(name)
                named.add(label)
        return names


def cluster(
    vectors: np.ndarray, num_speakers: int | None, settings: DiarizationSettings
) -> np.ndarray:
    """Integer speaker labels per window (average-linkage AHC on cosine distance)."""
    n = len(vectors)
    if n == 1 or num_speakers == 1:
        return np.zeros(n, dtype=int)
    rng = np.random.default_rng(0)
    sample = (
        np.sort(rng.choice(n, settings.max_cluster_windows, replace=False))
        if n > settings.max_cluster_windows
        else np.arange(n)
    )
    if num_speakers is not None:
        model = AgglomerativeClustering(
            n_clusters=min(num_speakers, len(sample)), metric="cosine", linkage="average"
        )
    else:
        model = AgglomerativeClustering(
            n_clusters=None,
            metric="cosine",
            linkage="average",
            distance_threshold=settings.distance_threshold,
        )
    sample_labels = model.fit_predict(vectors[sample])
    labels = _assign(vectors, vectors[sample], sample_labels)
    labels = _absorb_small(vectors, labels, settings, keep=num_speakers)
    if num_speakers is None:
        labels = _cap(vectors, labels, settings.max_speakers)
    return labels


def _assign(vectors: np.ndarray, sample: np.ndarray, sample_labels: np.ndarray) -> np.ndarray:
    keys = np.unique(sample_labels)
    centroids = np.stack([_unit(sample[sample_labels == k].mean(axis=0)) for k in keys])
    return keys[np.argmax(vectors @ centroids.T, axis=1)]


def _absorb_small(
    vectors: np.ndarray, labels: np.ndarray, settings: DiarizationSettings, keep: int | None
) -> np.ndarray:
    """Clusters with under `min_speaker_s` of windows join the nearest larger cluster."""
    min_windows = max(1, int(np.ceil(settings.min_speaker_s / settings.step_s)))
    while True:
        keys, counts = np.unique(labels, return_counts=True)
        if len(keys) <= max(1, keep or 1):
            return labels
        smallest = int(np.argmin(counts))
        if counts[smallest] >= min_windows:
            return labels
        labels = _merge_into_nearest(vectors, labels, keys[smallest])


def _cap(vectors: np.ndarray, labels: np.ndarray, max_speakers: int) -> np.ndarray:
    while len(np.unique(labels)) > max_speakers:
        keys, counts = np.unique(labels, return_counts=True)
        labels = _merge_into_nearest(vectors, labels, keys[int(np.argmin(counts))])
    return labels


def _merge_into_nearest(vectors: np.ndarray, labels: np.ndarray, small: int) -> np.ndarray:
    others = [k for k in np.unique(labels) if k != small]
    mine = _unit(vectors[labels == small].mean(axis=0))
    sims = [float(mine @ _unit(vectors[labels == k].mean(axis=0))) for k in others]
    labels = labels.copy()
    labels[labels == small] = others[int(np.argmax(sims))]
    return labels


def _nearest(times: np.ndarray, frames: np.ndarray) -> np.ndarray:
    right = (
        np.clip(np.searchsorted(times, frames), 1, len(times) - 1)
        if len(times) > 1
        else (np.zeros(len(frames), dtype=int))
    )
    if len(times) == 1:
        return right
    left = right - 1
    return np.where(np.abs(times[left] - frames) <= np.abs(times[right] - frames), left, right)


def _runs(
    labels: np.ndarray, overlapped: np.ndarray, min_frames: float
) -> list[tuple[int, int, int, bool]]:
    """(first frame, last frame, label, overlap) runs; runs under `min_frames` join the
    longer neighbour."""
    runs: list[list] = []
    for i, label in enumerate(labels):
        if runs and runs[-1][2] == label:
            runs[-1][1] = i
            runs[-1][3] = runs[-1][3] or bool(overlapped[i])
        else:
            runs.append([i, i, int(label), bool(overlapped[i])])
    changed = True
    while changed and len(runs) > 1:
        changed = False
        lengths = [r[1] - r[0] + 1 for r in runs]
        shortest = int(np.argmin(lengths))
        if lengths[shortest] >= min_frames:
            break
        neighbours = [j for j in (shortest - 1, shortest + 1) if 0 <= j < len(runs)]
        target = max(neighbours, key=lambda j: lengths[j])
        lo, hi = sorted((shortest, target))
        runs[lo] = [runs[lo][0], runs[hi][1], runs[target][2], runs[lo][3] or runs[hi][3]]
        del runs[hi]
        changed = True
        # neighbours that now carry the same label become one run
        merged: list[list] = []
        for run in runs:
            if merged and merged[-1][2] == run[2]:
                merged[-1][1] = run[1]
                merged[-1][3] = merged[-1][3] or run[3]
            else:
                merged.append(run)
        runs = merged
    return [(r[0], r[1], r[2], r[3]) for r in runs]


def _merge_adjacent(turns: list[SpeakerTurn], gap: float = 0.05) -> list[SpeakerTurn]:
    out: list[SpeakerTurn] = []
    for turn in sorted(turns, key=lambda t: t.start):
        if out and out[-1].speaker == turn.speaker and turn.start - out[-1].end <= gap:
            last = out[-1]
            out[-1] = SpeakerTurn(
                last.start, max(last.end, turn.end), last.speaker, last.overlap or turn.overlap
            )
        else:
            out.append(turn)
    return out


def _unit(vector: np.ndarray) -> np.ndarray:
    return vector / max(float(np.linalg.norm(vector)), 1e-8)
