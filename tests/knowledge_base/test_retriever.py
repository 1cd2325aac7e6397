from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from knowledge_base import Hit, KnowledgeBase, QueryOptions


def _top_docs(kb: KnowledgeBase, query: str, k: int = 5, **extra: object) -> list[str]:
    hits = kb.collection("demo").retriever().retrieve(query, QueryOptions(k=k, extra=extra))
    return [h.chunk.doc_id for h in hits]


def test_simplified_query_finds_traditional_document(demo_kb: KnowledgeBase) -> None:
    assert "zh-hant/passport-fees.md" in _top_docs(demo_kb, "护照费用是多少？", k=3)


def test_english_query_finds_chinese_only_document(demo_kb: KnowledgeBase) -> None:
    # SmartPLAY booking exists only in Traditional Chinese: found through the multilingual embedder
    assert "zh-hant/smartplay-booking.html" in _top_docs(
        demo_kb, "How do I book a sports venue with SmartPLAY?"
    )


def test_cantonese_query_finds_english_only_document(demo_kb: KnowledgeBase) -> None:
    assert "en/vehicle-licence.html" in _top_docs(demo_kb, "私家車牌照續期要唔要驗車？", k=5)


def test_explain_fields_and_one_hit_per_document(demo_kb: KnowledgeBase) -> None:
    hits = demo_kb.collection("demo").retriever().retrieve("passport fee", QueryOptions(k=5))
    assert len({h.chunk.doc_id for h in hits}) == len(hits) == 5
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    top = hits[0]
    assert top.dense_rank is not None and top.bm25_rank is not None
    assert 0 < top.score <= 1 and -1 <= (top.dense_score or 0) <= 1
    assert top.chunk.url and top.chunk.title


def test_weights_change_ranking_sources(demo_kb: KnowledgeBase) -> None:
    lexical = (
        demo_kb.collection("demo")
        .retriever()
        .retrieve("passport fee", QueryOptions(k=3, dense_weight=0.0, bm25_weight=1.0))
    )
    assert all(h.bm25_rank is not None for h in lexical)


def test_min_score_and_k(demo_kb: KnowledgeBase) -> None:
    retriever = demo_kb.collection("demo").retriever()
    assert len(retriever.retrieve("passport", QueryOptions(k=2))) == 2
    strict = retriever.retrieve("passport", QueryOptions(k=10, min_score=0.99))
    assert all(h.score >= 0.99 for h in strict) and len(strict) < 10
    assert retriever.retrieve("   ") == []


def test_mmr_reorders_for_diversity(demo_kb: KnowledgeBase) -> None:
    options = QueryOptions(k=5, mmr_lambda=0.3, extra={"one_hit_per_document": False})
    hits = demo_kb.collection("demo").retriever().retrieve("passport fee", options)
    assert len(hits) == 5
    plain = (
        demo_kb.collection("demo")
        .retriever()
        .retrieve("passport fee", QueryOptions(k=5, extra={"one_hit_per_document": False}))
    )
    assert [h.chunk.id for h in hits] != [h.chunk.id for h in plain]


def test_unknown_query_option_is_rejected(demo_kb: KnowledgeBase) -> None:
    with pytest.raises(ValueError, match="chunk_size"):
        demo_kb.collection("demo").retriever().retrieve("x", QueryOptions(extra={"chunk_size": 5}))


def test_query_translator_and_reranker_hooks(demo_kb: KnowledgeBase) -> None:
    asked: list[str] = []

    def translate(query: str) -> list[str]:
        asked.append(query)
        return ["康樂場地 預訂"]

    class ReverseReranker:
        def rerank(self, query: str, hits: list[Hit]) -> list[Hit]:
            for score, hit in enumerate(reversed(hits)):
                hit.rerank_score = float(score)
            return sorted(hits, key=lambda h: -(h.rerank_score or 0))

    collection = demo_kb.collection("demo")
    hits = collection.retriever(query_translator=translate).retrieve(
        "book a court", QueryOptions(k=5)
    )
    assert asked == ["book a court"]
    assert "zh-hant/smartplay-booking.html" in [h.chunk.doc_id for h in hits]
    reranked = collection.retriever(reranker=ReverseReranker()).retrieve(
        "passport", QueryOptions(k=3)
    )
    assert [h.rerank_score for h in reranked] == sorted(
        (h.rerank_score for h in reranked), reverse=True
    )


def test_concurrent_queries_match_serial_ones(demo_kb: KnowledgeBase) -> None:
    retriever = demo_kb.collection("demo").retriever()
    queries = [
        "passport fee",
        "補領身份證",
        "公屋申请",
        "1823 hotline",
        "長生津",
        "driving licence",
    ] * 3
    serial = [[h.chunk.id for h in retriever.retrieve(q)] for q in queries]
    with ThreadPoolExecutor(max_workers=6) as pool:
        parallel = list(pool.map(lambda q: [h.chunk.id for h in retriever.retrieve(q)], queries))
    assert parallel == serial


def test_colloquial_cantonese_query_matches_written_chinese(demo_kb: KnowledgeBase) -> None:
    hits = (
        demo_kb.collection("demo").retriever().retrieve("長者兩蚊搭車點申請？", QueryOptions(k=5))
    )
    fare = [h for h in hits if h.chunk.doc_id == "zh-hant/elderly-2-dollar-fare.md"]
    assert fare and fare[0].bm25_rank is not None and fare[0].bm25_rank <= 3


def test_language_weights_pick_by_query_script_and_yield_to_explicit_weights() -> None:
    from knowledge_base.config import RetrievalSettings
    from knowledge_base.retriever import effective_settings, fusion_weights

    stored = RetrievalSettings(
        dense_weight=0.3, bm25_weight=0.7, language_weights={"zh": (0.6, 0.4)}
    )
    assert fusion_weights(stored, "點樣補領身份證？") == (0.6, 0.4)
    assert fusion_weights(stored, "lost identity card") == (0.3, 0.7)
    explicit = effective_settings(stored, QueryOptions(dense_weight=0.9))
    assert fusion_weights(explicit, "點樣補領身份證？") == (0.9, 0.7)
    kept = effective_settings(stored, QueryOptions(k=3))
    assert fusion_weights(kept, "身份證") == (0.6, 0.4)
