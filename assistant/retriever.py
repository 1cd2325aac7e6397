"""The knowledge base as a LangChain `BaseRetriever`, keeping every score the gate needs.

Each `Document` carries the chunk's citation fields and the `Hit` itself in its metadata,
so the evidence gate and the `Source` list are built from the documents the chain retrieved.
"""

from __future__ import annotations

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from assistant.types import Source
from knowledge_base.types import Hit, QueryOptions, Retriever


class KnowledgeBaseRetriever(BaseRetriever):
    """`invoke(query)` / `ainvoke(query)` -> Documents, best first (ainvoke runs in a thread)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    retriever: Retriever
    k: int = 4

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        hits = self.retriever.retrieve(query, QueryOptions(k=self.k))
        return [hit_document(hit) for hit in hits]


def hit_document(hit: Hit) -> Document:
    chunk = hit.chunk
    return Document(
        page_content=chunk.text,
        id=chunk.id,
        metadata={
            "doc_id": chunk.doc_id,
            "title": chunk.title,
            "url": chunk.url,
            "section": chunk.section,
            "language": chunk.language,
            "score": hit.score,
            "dense_score": hit.dense_score,
            "bm25_score": hit.bm25_score,
            "hit": hit,
        },
    )


def document_hit(document: Document) -> Hit:
    return document.metadata["hit"]


def to_source(number: int, hit: Hit, *, snippet_chars: int) -> Source:
    """assistant.stages.retrieval.to_source (kept here for callers on other branches)."""
    from assistant.stages.retrieval import to_source as source

    return source(number, hit, snippet_chars=snippet_chars)
