"""Fusion of ranked lists: weighted reciprocal rank fusion (as LangChain's EnsembleRetriever,
c=60) or weighted relative-score fusion (each list's scores min-max normalised, then a
weighted sum, as Weaviate's relativeScoreFusion); MMR.

RRF sees only ranks, so a document BM25 matches far better than anything else counts no more
than a narrow BM25 winner; relative scores keep that margin. Measured on the public suite
(bench/kb_suite.py, docs/retrieval.md).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class RankedList:
    """One retriever's result for one query: positions best first, with their raw scores."""

    source: str  # "dense" or "bm25"
    weight: float
    positions: Sequence[int]
    scores: Sequence[float]
    # a score that earns full credit (BM25: a share of bm25_store.best_possible); relative
    # fusion divides by the larger of it and the list's best instead of min-max normalising
    scale: float | None = None


def weighted_rrf(lists: Sequence[RankedList], c: int = 60) -> dict[int, float]:
    """score(d) = sum over lists of weight / (c + rank of d), rank from 1.

    Divided by the score of an item ranked first in every list, so fused scores lie in
    [0, 1] and a collection's `min_score` means the same whatever the weights.
    """
    fused: dict[int, float] = {}
    best_possible = sum(lst.weight / (c + 1) for lst in lists if lst.weight > 0)
    if best_possible <= 0:
        return fused
    for lst in lists:
        if lst.weight <= 0:
            continue
        for rank, position in enumerate(lst.positions, start=1):
            fused[position] = fused.get(position, 0.0) + lst.weight / (c + rank)
    return {position: score / best_possible for position, score in fused.items()}


def relative_score_fusion(lists: Sequence[RankedList], c: int = 60) -> dict[int, float]:
    """score(d) = sum over lists of weight * normalised score, divided by the sum of the
    weights, so fused scores lie in [0, 1]. A list with a `scale` (BM25) is divided by the
    larger of its best score and that scale: a text matching few of the query's words gets
    little credit even when it is BM25's best, which is what happens to every BM25 hit when
    the answer is in the other language. Other
    lists (dense) are min-max normalised; a single score (or all equal) gives 1. `c` is
    unused (the signature matches RRF's)."""
    del c
    fused: dict[int, float] = {}
    total = sum(lst.weight for lst in lists if lst.weight > 0 and len(lst.positions))
    if total <= 0:
        return fused
    for lst in lists:
        if lst.weight <= 0 or not len(lst.positions):
            continue
        scores = np.asarray(lst.scores, dtype=np.float64)
        if lst.scale is not None:  # BM25: its best counts fully only if it matches well
            normalised = np.clip(scores / max(lst.scale, float(scores.max()), 1e-12), 0.0, 1.0)
        else:
            low, high = float(scores.min()), float(scores.max())
            spread = high - low
            normalised = (scores - low) / spread if spread > 1e-12 else np.ones_like(scores)
        for position, value in zip(lst.positions, normalised, strict=True):
            fused[position] = fused.get(position, 0.0) + lst.weight * float(value)
    return {position: score / total for position, score in fused.items()}


FUSERS: dict[str, Callable[[Sequence[RankedList], int], dict[int, float]]] = {
    "rrf": weighted_rrf,
    "relative": relative_score_fusion,
}


def mmr(
    candidates: Sequence[int],
    relevance: Sequence[float],
    vectors: np.ndarray,
    k: int,
    lambda_: float,
) -> list[int]:
    """Maximal marginal relevance: pick k candidates, each maximising
    lambda * relevance - (1 - lambda) * (highest cosine to one already picked)."""
    if not len(candidates):
        return []
    rel = np.asarray(relevance, dtype=np.float32)
    rel = rel / max(float(rel.max()), 1e-12)
    matrix = vectors[np.asarray(candidates)]
    similarity = matrix @ matrix.T
    chosen: list[int] = []
    remaining = list(range(len(candidates)))
    while remaining and len(chosen) < k:
        if chosen:
            redundancy = similarity[np.ix_(remaining, chosen)].max(axis=1)
        else:
            redundancy = np.zeros(len(remaining), dtype=np.float32)
        gains = lambda_ * rel[remaining] - (1 - lambda_) * redundancy
        best = remaining[int(np.argmax(gains))]
        chosen.append(best)
        remaining.remove(best)
    return [candidates[i] for i in chosen]


def language_balanced_rrf(
    lists: Sequence[RankedList],
    group_of: Callable[[int], str],
    c: int = 60,
    fuse: Callable[[Sequence[RankedList], int], dict[int, float]] = weighted_rrf,
) -> dict[int, float]:
    """Fusion (weighted RRF by default) computed inside each language group, each on its own
    [0, 1] scale.

    A multilingual embedder scores a document in the query's own language higher than an
    equally relevant one in another language, and BM25 only ever matches the query's own
    language; fused across the board, the best document of the other language sinks below
    mediocre same-language ones. Ranking each group separately (ranks recounted within the
    group, each list normalised by the lists that reach the group) lets the best English and
    the best Chinese document meet at the top, ordered by how well each fits.
    """
    groups: dict[str, list[RankedList]] = {}
    for lst in lists:
        by_group: dict[str, tuple[list[int], list[float]]] = {}
        for position, score in zip(lst.positions, lst.scores, strict=True):
            positions, scores = by_group.setdefault(group_of(position), ([], []))
            positions.append(position)
            scores.append(score)
        for group, (positions, scores) in by_group.items():
            groups.setdefault(group, []).append(
                RankedList(lst.source, lst.weight, positions, scores, lst.scale)
            )
    fused: dict[int, float] = {}
    for group_lists in groups.values():
        fused.update(fuse(group_lists, c))
    return fused
