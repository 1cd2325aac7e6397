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


def test_bm25_coverage_is_the_best_hits_share_of_the_best_possible_score() -> None:
    import numpy as np

    from knowledge_base.retriever import _coverage

    assert _coverage(np.array([3.0, 1.0]), 6.0) == 0.5
    assert _coverage(np.array([7.0]), 6.0) == 1.0  # capped
    assert _coverage(np.array([]), 6.0) == 0.0 and _coverage(np.array([2.0]), 0.0) == 0.0


def test_language_gap_penalty_scales_the_trailing_group_only() -> None:
    from knowledge_base.retriever import _Evidence, _penalise_language_gap

    group_of = {0: "en", 1: "en", 2: "zh", 3: "zh"}.__getitem__
    fused = {0: 1.0, 1: 0.5, 2: 1.0, 3: 0.4}
    dense = {0: _Evidence(0.80, 1), 1: _Evidence(0.70, 2), 2: _Evidence(0.70, 3)}
    out = _penalise_language_gap(fused, dense, group_of, 2.0)
    # zh's best cosine trails by 0.1: its scores keep 1 - 2 * 0.1 = 0.8
    assert out[0] == 1.0 and out[1] == 0.5
    assert out[2] == pytest.approx(0.8) and out[3] == pytest.approx(0.32)
    assert _penalise_language_gap(fused, dense, group_of, 20.0)[2] == 0.0  # never negative
    assert _penalise_language_gap(fused, {}, group_of, 2.0) == fused


def test_language_gap_penalty_treats_a_group_without_dense_hits_as_trailing_most() -> None:
    from knowledge_base.retriever import _Evidence, _penalise_language_gap

    # zh has lexical hits only: its dense best is below the weakest dense candidate (0.60)
    group_of = {0: "en", 1: "en", 2: "zh"}.__getitem__
    fused = {0: 1.0, 1: 0.5, 2: 1.0}
    dense = {0: _Evidence(0.80, 1), 1: _Evidence(0.60, 2)}
    out = _penalise_language_gap(fused, dense, group_of, 2.0)
    assert out[0] == 1.0 and out[1] == 0.5
    assert out[2] == pytest.approx(1.0 - 2.0 * (0.80 - 0.60))  # not a full 1.0
    assert _penalise_language_gap(fused, dense, group_of, 20.0)[2] == 0.0


def test_language_gap_penalty_lowers_the_other_languages_best_guess(
    demo_kb: KnowledgeBase,
) -> None:
    retriever = demo_kb.collection("demo").retriever()
    query = "How much stamp duty is payable on a property?"

    def scores(penalty: float) -> dict[str, tuple[str, float]]:
        options = QueryOptions(k=20, extra={"language_gap_penalty": penalty})
        return {h.chunk.id: (h.chunk.language, h.score) for h in retriever.retrieve(query, options)}

    balanced, penalised = scores(0.0), scores(2.0)
    group = {key: "en" if lang == "en" else "zh" for key, (lang, _) in balanced.items()}
    assert set(group.values()) == {"en", "zh"}
    kept = {key for key in balanced if key in penalised and penalised[key][1] == balanced[key][1]}
    lowered = {key for key in balanced if key in penalised and penalised[key][1] < balanced[key][1]}
    # the group with the closer dense match keeps its scores; every hit of the other loses some
    assert kept and lowered and kept | lowered == set(balanced) & set(penalised)
    assert len({group[key] for key in kept}) == len({group[key] for key in lowered}) == 1
    assert {group[key] for key in kept} != {group[key] for key in lowered}
