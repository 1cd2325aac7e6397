"""Document collections: loading, chunking, normalisation, embeddings, FAISS + BM25, hybrid
retrieval, evaluation. Imports none of samyu's other packages.

Public API (what the assistant and the admin API call)::

    from knowledge_base import KnowledgeBase, QueryOptions

    kb = KnowledgeBase(settings.kb)                  # KnowledgeBaseSettings
    kb.collections() -> list[str]
    col = kb.collection("demo")                      # -> Collection (cached, thread-safe)
    col.ingest(paths, sync=False, progress=None) -> IngestReport   # .files: list[FileReport]
    col.documents() -> list[DocumentInfo]
    col.files() -> list[FileInfo]                    # loaded files (an FAQ table = many documents)
    col.delete(doc_id_or_file) -> list[str]          # ids removed; CollectionError when absent
    col.disagreements() -> list[Disagreement]        # language versions whose numbers differ
    col.redirect -> RedirectSettings                 # hotline + redirect wording per collection
    col.update_redirect(**changes) -> RedirectSettings
    col.settings -> RetrievalSettings                # stored per collection
    col.update_settings(**changes) -> RetrievalSettings   # rebuilds if index-time changed
    retriever = col.retriever(query_translator=None, reranker=None)  # HybridRetriever
    retriever.retrieve(query, QueryOptions(k=5)) -> list[Hit]       # best first, thread-safe
    evaluate_collection(col, load_questions(path)) -> EvalReport   # .as_dict() = `kb eval --json`

`Hit.score` is the fused score in [0, 1] (1 = ranked first by every retriever);
`Hit.dense_score` is the cosine similarity of the query and the chunk (useful as evidence).
The index and embedder load once per process and reload when another process publishes a
new version. `query_translator` is any callable str -> list[str] (e.g. the assistant's LLM
translating the question); `reranker` implements `knowledge_base.types.Reranker`.
"""

from knowledge_base.collection import (
    Collection,
    CollectionError,
    DocumentInfo,
    FileInfo,
    FileReport,
    IngestReport,
    KnowledgeBase,
)
from knowledge_base.config import KnowledgeBaseSettings, RedirectSettings, RetrievalSettings
from knowledge_base.evaluation import EvalReport, evaluate_collection, load_questions
from knowledge_base.retriever import HybridRetriever
from knowledge_base.types import Chunk, Embedder, Hit, QueryOptions, Reranker, Retriever

__all__ = [
    "Chunk",
    "Collection",
    "CollectionError",
    "DocumentInfo",
    "Embedder",
    "EvalReport",
    "FileInfo",
    "FileReport",
    "Hit",
    "HybridRetriever",
    "IngestReport",
    "KnowledgeBase",
    "KnowledgeBaseSettings",
    "QueryOptions",
    "RedirectSettings",
    "Reranker",
    "RetrievalSettings",
    "Retriever",
    "evaluate_collection",
    "load_questions",
]
