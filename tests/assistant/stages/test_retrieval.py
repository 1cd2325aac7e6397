"""Retrieval: hits in the caller's language first, numbered sources from the same hits."""

from __future__ import annotations

from assistant.stages.retrieval import retrieve, to_sources


async def test_hits_come_in_the_callers_language_and_number_the_sources(fake_kb) -> None:
    retriever = fake_kb.collection("demo").retriever()
    hits = await retrieve(retriever, "passport fees for adults", "en", k=3)
    assert 1 <= len(hits) <= 3
    assert all(not h.chunk.language.startswith("zh") for h in hits)
    sources = to_sources(hits)
    assert [s.number for s in sources] == list(range(1, len(hits) + 1))
    assert [s.chunk_id for s in sources] == [h.chunk.id for h in hits]
    assert all(len(s.snippet) <= 240 for s in sources)
