"""Grid search over fusion weights, the RRF constant and chunking, scored on labelled questions.

Chunking changes need new chunks and vectors: each chunking is built once in memory (never
published), with embeddings memoised by text, and every fusion setting is scored against it.

Choosing the best of 30 settings on the same questions that score it flatters the winner.
`cross_validate` splits the questions into k folds (a fixed shuffle): for each fold it picks
the best setting on the other folds and scores that setting on the held-out fold only. The
mean of those held-out scores is what to expect on new questions; their spread says how much
to trust it. The setting recommended is the one the folds chose most often.
"""

from __future__ import annotations

import itertools
import random
import statistics
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from knowledge_base.chunking import chunk_document
from knowledge_base.config import RetrievalSettings
from knowledge_base.evaluation import DEPTH, EvalReport, Question, evaluate, report_of
from knowledge_base.index import DocumentRecord, IndexData, chunk_texts
from knowledge_base.retriever import HybridRetriever
from knowledge_base.types import Embedder

WEIGHTS = ((0.0, 1.0), (0.3, 0.7), (0.5, 0.5), (0.7, 0.3), (1.0, 0.0))
RRF_C = (10, 60)
CHUNK_SIZES = (200, 400, 800)


@dataclass
class Trial:
    settings: dict[str, object]
    report: EvalReport

    @property
    def objective(self) -> tuple[float, float, float]:
        return objective(self.report)


def objective(report: EvalReport) -> tuple[float, float, float]:
    """Worst language's recall@5 first (every language must work), then overall, then MRR."""
    worst = min((m.recall[5] for m in report.by_language.values()), default=0.0)
    return (worst, report.overall.recall[5], report.overall.mrr)


@dataclass
class Fold:
    chosen: dict[str, object]  # the best setting on the other folds
    train: EvalReport  # its score on the other folds (optimistic)
    held_out: EvalReport  # its score on this fold's questions, never seen when choosing


@dataclass
class CrossValidation:
    folds: list[Fold]
    recommended: dict[str, object]  # the setting the folds chose most often

    def held_out_recall5(self) -> list[float]:
        return [f.held_out.overall.recall[5] for f in self.folds]

    def summary(self) -> dict[str, float]:
        """Mean and spread of the held-out recall@5 and MRR, and the in-sample recall@5."""
        recall = self.held_out_recall5()
        mrr = [f.held_out.overall.mrr for f in self.folds]
        return {
            "held_out_recall@5_mean": round(statistics.fmean(recall), 4),
            "held_out_recall@5_min": round(min(recall), 4),
            "held_out_recall@5_max": round(max(recall), 4),
            "held_out_recall@5_stdev": round(statistics.pstdev(recall), 4),
            "held_out_mrr_mean": round(statistics.fmean(mrr), 4),
            "train_recall@5_mean": round(
                statistics.fmean(f.train.overall.recall[5] for f in self.folds), 4
            ),
        }


def fold_indexes(count: int, folds: int, seed: int = 0) -> list[list[int]]:
    """`folds` disjoint index lists covering range(count), from a fixed-seed shuffle."""
    if not 2 <= folds <= count:
        raise ValueError(f"need 2 <= folds <= questions, got {folds} folds for {count}")
    order = list(range(count))
    random.Random(seed).shuffle(order)
    return [sorted(order[i::folds]) for i in range(folds)]


def cross_validate(trials: Sequence[Trial], folds: int = 5, seed: int = 0) -> CrossValidation:
    """Held-out scores of choosing among `trials` (each scored on the same question list)."""
    count = len(trials[0].report.results)
    out: list[Fold] = []
    for held in fold_indexes(count, folds, seed):
        held_set = set(held)
        train_of = {
            id(t): report_of([r for i, r in enumerate(t.report.results) if i not in held_set])
            for t in trials
        }
        best = max(trials, key=lambda t: objective(train_of[id(t)]))
        held_out = report_of([best.report.results[i] for i in held])
        out.append(Fold(best.settings, train_of[id(best)], held_out))
    votes = Counter(_key(f.chosen) for f in out)
    by_key = {_key(t.settings): t for t in trials}
    # most folds first; ties go to the better score on all questions
    recommended = max(votes, key=lambda k: (votes[k], by_key[k].objective))
    return CrossValidation(out, by_key[recommended].settings)


def _key(settings: dict[str, object]) -> tuple[tuple[str, object], ...]:
    return tuple(sorted(settings.items()))


class _Memo:
    """An Embedder that remembers vectors by text, so a grid embeds each text once."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.name = inner.name
        self.dimension = inner.dimension
        self._cache: dict[str, np.ndarray] = {}

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in self._cache]
        if missing:
            for text, vector in zip(missing, self.inner.embed_documents(missing), strict=True):
                self._cache[text] = vector
        if not texts:
            return np.zeros((0, self.dimension), np.float32)
        return np.vstack([self._cache[t] for t in texts])

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_documents([text])[0]


def _build(
    collection, base: IndexData, settings: RetrievalSettings, embedder: Embedder
) -> IndexData:
    documents: dict[str, DocumentRecord] = {}
    chunks = []
    for record in base.documents.values():
        pieces = chunk_document(
            record.as_loaded(),
            collection.name,
            chunk_size=settings.chunk_size,
            chunk_overlap=settings.chunk_overlap,
            max_chunks=collection.kb.settings.max_chunks_per_document,
        )
        documents[record.id] = DocumentRecord(**{**record.__dict__, "chunk_count": len(pieces)})
        chunks.extend(pieces)
    vectors = embedder.embed_documents(chunk_texts(chunks)).astype(np.float32)
    return IndexData.build(documents, chunks, vectors, embedder.name, settings, use_gpu=False)


class _FixedEmbedderCollection:
    """What HybridRetriever needs of a collection, pinned to a memoised embedder."""

    def __init__(self, collection, embedder: Embedder) -> None:
        self.kb = _KB(collection.kb, embedder)
        self.name = collection.name


class _KB:
    def __init__(self, kb, embedder: Embedder) -> None:
        self.settings = kb.settings
        self._embedder = embedder

    def embedder(self, _settings: RetrievalSettings) -> Embedder:
        return self._embedder


def tune(
    collection,
    questions: Sequence[Question],
    *,
    chunk_sizes: Sequence[int] = CHUNK_SIZES,
    weights: Sequence[tuple[float, float]] = WEIGHTS,
    rrf_cs: Sequence[int] = RRF_C,
    progress: Callable[[int, int], None] | None = None,
) -> list[Trial]:
    """Every combination, best first (by `Trial.objective`)."""
    stored = collection.settings
    base = collection.index()
    embedder = _Memo(collection.kb.embedder(stored))
    retriever = HybridRetriever(_FixedEmbedderCollection(collection, embedder))
    grid = list(itertools.product(chunk_sizes, weights, rrf_cs))
    trials: list[Trial] = []
    built: dict[int, IndexData] = {}
    for done, (size, (dense_w, bm25_w), c) in enumerate(grid):
        if progress:
            progress(done, len(grid))
        changes = {
            "chunk_size": size,
            "chunk_overlap": size // 7,
            "dense_weight": dense_w,
            "bm25_weight": bm25_w,
            "rrf_c": c,
        }
        settings = RetrievalSettings.model_validate(
            {**stored.model_dump(), **changes, "k": DEPTH, "one_hit_per_document": True}
        )
        if size not in built:
            built[size] = _build(collection, base, settings, embedder)
        data = built[size]
        report = evaluate(lambda q, d=data, s=settings: retriever.retrieve_from(d, q, s), questions)
        trials.append(Trial(changes, report))
    if progress:
        progress(len(grid), len(grid))
    return sorted(trials, key=lambda t: t.objective, reverse=True)
