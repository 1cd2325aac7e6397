from __future__ import annotations

from knowledge_base.chunking import chunk_document
from knowledge_base.loaders import LoadedDocument, Section


def _doc(text: str) -> LoadedDocument:
    return LoadedDocument("a.md", "a.md", "Title", text, "h", [Section(0, "Intro")])


def test_chinese_chunks_end_at_sentence_ends_and_spans_point_into_text() -> None:
    sentence = "申請人須親身前往人事登記處辦理補領手續。"
    text = sentence * 20
    chunks = chunk_document(_doc(text), "c", chunk_size=100, chunk_overlap=0, max_chunks=100)
    assert len(chunks) > 1
    for chunk in chunks:
        assert len(chunk.text) <= 100
        assert chunk.text.endswith("。")
        assert text[chunk.start : chunk.end] == chunk.text
        assert (chunk.doc_id, chunk.title, chunk.section, chunk.language) == (
            "a.md",
            "Title",
            "Intro",
            "zh-Hant",
        )


def test_english_chunks_end_at_full_stops_with_overlap() -> None:
    text = " ".join(f"Sentence number {i} is about passports." for i in range(40))
    chunks = chunk_document(_doc(text), "c", chunk_size=120, chunk_overlap=40, max_chunks=100)
    assert all(c.text.endswith(".") for c in chunks)
    assert chunks[1].start < chunks[0].end  # overlap
    assert chunks[0].language == "en"
    assert [c.id for c in chunks[:2]] == ["a.md#0", "a.md#1"]


def test_chunk_limit() -> None:
    import pytest

    with pytest.raises(ValueError, match="max_chunks_per_document"):
        chunk_document(_doc("x. " * 500), "c", chunk_size=50, chunk_overlap=0, max_chunks=3)
