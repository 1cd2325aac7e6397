from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from knowledge_base.dense_store import DenseIndex, build_index


def _vectors(n: int, d: int = 32, seed: int = 0) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.mark.parametrize("index_type", ["flat", "ivf", "hnsw"])
def test_each_index_type_finds_the_vectors_themselves(index_type: str, tmp_path: Path) -> None:
    vectors = _vectors(2000)
    index = DenseIndex(build_index(vectors, index_type), use_gpu=False)  # type: ignore[arg-type]
    found = sum(int(index.search(vectors[i], 5, nprobe=16)[1][0] == i) for i in range(0, 2000, 40))
    assert found >= 45  # of 50: approximate indexes may miss a few
    index.save(tmp_path / "x.faiss")
    loaded = DenseIndex.load(tmp_path / "x.faiss", use_gpu=False)
    assert loaded.size == 2000
    scores, positions = loaded.search(vectors[7], 3, nprobe=16)
    assert positions[0] == 7 and scores[0] == pytest.approx(1.0, abs=1e-5)


def test_small_ivf_does_not_fail_and_k_is_clamped() -> None:
    vectors = _vectors(10)
    index = DenseIndex(build_index(vectors, "ivf"), use_gpu=False)
    _scores, positions = index.search(vectors[0], 50)
    assert len(positions) == 10 and positions[0] == 0
