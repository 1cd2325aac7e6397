"""The real EmbeddingGemma-300M, assembled by `samyu models` from its PyPI wheels (slow: a
1.2 GB model, loaded once per session by get_embedder's process-wide cache)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from knowledge_base import KnowledgeBase, KnowledgeBaseSettings, QueryOptions
from knowledge_base.embedders import get_embedder
from knowledge_base.types import Embedder

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def gemma() -> Embedder:
    return get_embedder(KnowledgeBaseSettings(embed_cache=False), "embeddinggemma")


def test_one_space_for_english_and_both_chinese_scripts(gemma: Embedder) -> None:
    assert gemma.dimension == 768 and gemma.name == "embeddinggemma-300m"
    docs = gemma.embed_documents(
        [
            "遺失香港身份證，須親身到人事登記處申請補領。",  # lost ID card (Traditional)
            "长者乘搭公共交通工具每程只需两元。",  # elderly $2 fare (Simplified)
            "Salaries tax returns are issued in early May.",
        ]
    )
    assert docs.shape == (3, 768) and docs.dtype == np.float32
    assert np.allclose(np.linalg.norm(docs, axis=1), 1, atol=1e-4)
    for query, best in (
        ("How do I replace a lost identity card?", 0),
        ("老人家搭巴士幾錢？", 1),  # colloquial Cantonese, other script
        ("when do I get my tax return form", 2),
    ):
        scores = docs @ gemma.embed_query(query)
        assert int(np.argmax(scores)) == best, (query, scores)


def test_collection_on_gemma_answers_across_languages(gemma: Embedder, tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "id.md").write_text(
        "# 補領身份證\n遺失香港身份證，須親身到人事登記處申請補領，費用為港幣370元。\n", "utf-8"
    )
    (tmp_path / "docs" / "tax.md").write_text(
        "# Salaries tax\nFile your return within one month of the date of issue.\n", "utf-8"
    )
    kb = KnowledgeBase(KnowledgeBaseSettings(home=tmp_path / "home"))
    collection = kb.collection("gemma")
    collection.update_settings(embedder="embeddinggemma")
    assert collection.ingest([tmp_path / "docs"]).chunks_embedded == 2
    hits = collection.retriever().retrieve("lost identity card replacement", QueryOptions(k=1))
    assert hits[0].chunk.doc_id == "id.md"


def test_queries_embedded_together_match_one_by_one(gemma: Embedder) -> None:
    queries = ["補領身份證要幾多錢？", "补领身份证要多少钱？", "How much is a passport?"]
    together = gemma.embed_queries(queries)  # type: ignore[attr-defined]
    alone = np.vstack([gemma.embed_query(q) for q in queries])
    assert together.shape == (3, 768)
    # padding the shorter queries in one batch changes the numbers by rounding only
    assert np.all(np.sum(together * alone, axis=1) > 0.999)
