from __future__ import annotations

import numpy as np
import pytest

from knowledge_base.fusion import RankedList, mmr, weighted_rrf


def test_weighted_rrf_matches_the_formula_and_is_normalised() -> None:
    dense = RankedList("dense", 0.3, [1, 2], [0.9, 0.8])
    bm25 = RankedList("bm25", 0.7, [2, 3], [5.0, 4.0])
    fused = weighted_rrf([dense, bm25], c=60)
    best = 0.3 / 61 + 0.7 / 61
    assert fused[2] == pytest.approx((0.3 / 62 + 0.7 / 61) / best)
    assert fused[1] == pytest.approx((0.3 / 61) / best)
    assert fused[3] == pytest.approx((0.7 / 62) / best)
    assert max(fused, key=fused.get) == 2


def test_zero_weight_list_is_ignored() -> None:
    fused = weighted_rrf(
        [RankedList("dense", 0.0, [1], [1.0]), RankedList("bm25", 1.0, [2], [1.0])]
    )
    assert fused == {2: pytest.approx(1.0)}


def test_mmr_prefers_a_diverse_second_pick() -> None:
    vectors = np.array([[1, 0], [1, 0], [0, 1]], dtype=np.float32)
    assert mmr([0, 1, 2], [1.0, 0.99, 0.9], vectors, 2, lambda_=0.5) == [0, 2]
    assert mmr([0, 1, 2], [1.0, 0.99, 0.9], vectors, 2, lambda_=1.0) == [0, 1]


def test_relative_score_fusion_keeps_a_lexical_winners_margin() -> None:
    from knowledge_base.fusion import relative_score_fusion

    # BM25 is sure of 7 (score far above the rest); dense barely prefers 3 over 7
    dense = RankedList("dense", 0.5, [3, 7, 9], [0.62, 0.61, 0.30])
    bm25 = RankedList("bm25", 0.5, [7, 3, 9], [30.0, 2.0, 1.0])
    relative = relative_score_fusion([dense, bm25])
    assert max(relative, key=relative.get) == 7
    assert all(0.0 <= v <= 1.0 for v in relative.values())
    assert relative[7] > relative[3] + 0.3
    # RRF sees only ranks: 3 and 7 tie
    rrf = weighted_rrf([dense, bm25])
    assert abs(rrf[3] - rrf[7]) < 1e-9


def test_relative_score_fusion_of_one_item_and_empty_lists() -> None:
    from knowledge_base.fusion import relative_score_fusion

    assert relative_score_fusion([RankedList("bm25", 1.0, [4], [2.5])]) == {4: 1.0}
    assert relative_score_fusion([RankedList("bm25", 1.0, [], [])]) == {}
