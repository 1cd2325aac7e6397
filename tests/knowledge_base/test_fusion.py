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
