"""The knowledge base's small typed interface: what other packages may rely on."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np

# Script tag of a chunk's text. Spoken-language codes (yue/cmn/en) belong to voices.
ScriptTag = str  # "en" | "zh-Hant" | "zh-Hans"


@dataclass(frozen=True)
class Chunk:
    """A retrievable piece of a document, with everything needed to cite it."""

    id: str  # "<doc_id>#<n>"
    doc_id: str  # path relative to the ingested folder, or a JSONL record's id
    collection: str
    text: str
    title: str
    section: str | None = None  # heading path or "p. 3"
    start: int = 0  # character span in the document's extracted text
    end: int = 0
    language: ScriptTag = "en"
    url: str | None = None
    # Why ingest quarantined this chunk (instruction-like or claim-overriding text), or None.
    # Retrieval down-weights quarantined chunks; answers may not take facts from them and
    # callers never see them as snippets.
    quarantine: str | None = None


@dataclass
class Hit:
    """One retrieved chunk with the scores that ranked it (shown by `kb query --explain`)."""

    chunk: Chunk
    score: float  # the fused score the list is sorted by
    dense_score: float | None = None
    dense_rank: int | None = None
    bm25_score: float | None = None
    bm25_rank: int | None = None
    rerank_score: float | None = None


@dataclass
class QueryOptions:
    """Per-query overrides of a collection's stored retrieval settings (None = use stored)."""

    k: int | None = None
    dense_weight: float | None = None
    bm25_weight: float | None = None
    min_score: float | None = None
    mmr_lambda: float | None = None
    extra: dict[str, object] = field(default_factory=dict)


@runtime_checkable
class Embedder(Protocol):
    """Text -> L2-normalised float32 vectors, shape (n, dimension)."""

    name: str
    dimension: int

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_query(self, text: str) -> np.ndarray: ...


@runtime_checkable
class Retriever(Protocol):
    """Finds the chunks that answer a query, best first."""

    def retrieve(self, query: str, options: QueryOptions | None = None) -> list[Hit]: ...


@runtime_checkable
class Reranker(Protocol):
    """Re-scores fused hits (a cross-encoder in production); sets `Hit.rerank_score`, best first.

    No cross-encoder model ships in a PyPI package that works offline here, so none is
    bundled: a deployment passes its own to `Collection.retriever(reranker=...)`.
    """

    def rerank(self, query: str, hits: list[Hit]) -> list[Hit]: ...


# Turns a query into extra queries in other languages (the assistant supplies one built on its
# LLM); their results are fused with the original's. knowledge_base never imports assistant.
QueryTranslator = Callable[[str], list[str]]
