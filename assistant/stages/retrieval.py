"""Retrieval: the standalone query -> the passages of the prompt and the `sources` frame.

One passage type flows through the turn: the knowledge base's `Hit` (a chunk and its scores),
numbered by its place in the list. The evidence gate reads its scores, the prompt its text,
and `to_source` makes the `Source` the caller sees; there is no round trip through LangChain
Documents (assistant/retriever.py keeps `KnowledgeBaseRetriever` for LangChain chains that
want one).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from assistant.frames import Source
from assistant.preempt import speculative_hits
from assistant.speakable import clean_for_display
from knowledge_base.types import Hit, QueryOptions, Retriever
from voices.types import SpokenLanguage

SNIPPET_CHARS = 240


async def retrieve(retriever: Retriever, query: str, language: SpokenLanguage, k: int) -> list[Hit]:
    """The top `k` hits, those in the caller's language first.

    Twice k are retrieved (in a worker thread: FAISS and BM25 are blocking); when some are in
    the caller's language only those are kept: a small model answers in the language of its
    sources as much as of its instructions, and the sources shown then match the answer.
    Hits retrieved ahead for the same query on the caller's stable partial transcript
    (assistant.preempt.Speculation) are used instead when there are some.
    """
    ahead = await speculative_hits(query, language, k)
    if ahead is not None:
        return ahead
    return await retrieve_now(retriever, query, language, k)


async def retrieve_now(
    retriever: Retriever, query: str, language: SpokenLanguage, k: int
) -> list[Hit]:
    """`retrieve` without speculation (what a speculation itself runs)."""
    hits = await asyncio.to_thread(retriever.retrieve, query, QueryOptions(k=2 * k))
    chinese = language != "en"
    same = [h for h in hits if h.chunk.language.startswith("zh") == chinese]
    return (same or hits)[:k]


def to_source(number: int, hit: Hit, *, snippet_chars: int = SNIPPET_CHARS) -> Source:
    chunk = hit.chunk
    snippet = " ".join(clean_for_display(chunk.text).split())
    if len(snippet) > snippet_chars:
        snippet = snippet[: snippet_chars - 1].rstrip() + "…"
    return Source(
        number=number,
        doc_id=chunk.doc_id,
        chunk_id=chunk.id,
        title=chunk.title,
        snippet=snippet,
        link=chunk.url,
        score=hit.score,
    )


def to_sources(hits: Sequence[Hit]) -> list[Source]:
    """The `sources` frame of numbered passages ([1] is the first hit, as in the prompt)."""
    return [to_source(number, hit) for number, hit in enumerate(hits, 1)]
