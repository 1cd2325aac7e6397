"""Grid search over fusion weights, the RRF constant and chunking, scored on labelled questions.

Chunking changes need new chunks and vectors: each chunking is built once in memory (never
published), with embeddings memoised by text, and every fusion setting is scored against it.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from knowledge_base.chunking import chunk_document
from knowledge_base.config import RetrievalSettings
from knowledge_base.evaluation import DEPTH, EvalReport, Question, evaluate
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
        """Worst language's recall@5 first (every language must work), then overall, then MRR."""
        worst = min((m.recall[5] for m in self.report.by_language.values()), default=0.0)
        return (worst, self.report.overall.recall[5], self.report.overall.mrr)


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
