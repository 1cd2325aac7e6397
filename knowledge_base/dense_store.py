"""FAISS inner-product index over L2-normalised vectors (so scores are cosine similarities).

Flat is exact and best for small collections; IVF (inverted lists) and HNSW (graph) trade a
little recall for speed on large ones. When faiss-gpu is installed and sees a GPU, Flat and
IVF indexes are moved to it (FAISS has no GPU HNSW).
"""

from __future__ import annotations

import math
from pathlib import Path

import faiss
import numpy as np

from knowledge_base.config import IndexType

_IVF_MIN_POINTS_PER_LIST = 39  # FAISS warns below this many training points per list


def gpu_count() -> int:
    get = getattr(faiss, "get_num_gpus", None)
    return int(get()) if get is not None else 0


def build_index(
    vectors: np.ndarray, index_type: IndexType, *, ivf_nlist: int = 0, hnsw_m: int = 32
) -> faiss.Index:
    n, dimension = vectors.shape
    if index_type == "hnsw":
        index = faiss.IndexHNSWFlat(dimension, hnsw_m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = max(40, 2 * hnsw_m)
    elif index_type == "ivf":
        nlist = ivf_nlist or int(4 * math.sqrt(max(n, 1)))
        nlist = max(1, min(nlist, n // _IVF_MIN_POINTS_PER_LIST or 1))
        quantizer = faiss.IndexFlatIP(dimension)
        index = faiss.IndexIVFFlat(quantizer, dimension, nlist, faiss.METRIC_INNER_PRODUCT)
        if n:
            index.train(vectors)
    else:
        index = faiss.IndexFlatIP(dimension)
    if n:
        index.add(vectors)
    return index


class DenseIndex:
    """A loaded FAISS index; `search` is safe to call from many threads."""

    def __init__(self, index: faiss.Index, *, use_gpu: bool = True) -> None:
        self.cpu_index = index
        self.on_gpu = False
        self.index = index
        if use_gpu and gpu_count() > 0 and not isinstance(index, faiss.IndexHNSWFlat):
            self._resources = faiss.StandardGpuResources()
            self.index = faiss.index_cpu_to_gpu(self._resources, 0, index)
            self.on_gpu = True

    @property
    def size(self) -> int:
        return int(self.index.ntotal)

    def search(
        self, query: np.ndarray, k: int, *, nprobe: int = 8, ef_search: int = 64
    ) -> tuple[np.ndarray, np.ndarray]:
        """(scores, positions) best first; positions are -1 where fewer than k exist."""
        k = max(1, min(k, self.size))
        params = None
        if not self.on_gpu:
            # per-call parameters instead of mutating the index: concurrent queries stay safe
            if isinstance(self.cpu_index, faiss.IndexIVF):
                params = faiss.SearchParametersIVF(nprobe=nprobe)
            elif isinstance(self.cpu_index, faiss.IndexHNSW):
                params = faiss.SearchParametersHNSW(efSearch=max(ef_search, k))
        elif isinstance(self.cpu_index, faiss.IndexIVF):
            faiss.GpuParameterSpace().set_index_parameter(self.index, "nprobe", nprobe)
        matrix = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
        scores, positions = self.index.search(matrix, k, params=params)
        return scores[0], positions[0]

    def save(self, path: Path) -> None:
        faiss.write_index(self.cpu_index, str(path))

    @classmethod
    def load(cls, path: Path, *, use_gpu: bool = True) -> DenseIndex:
        return cls(faiss.read_index(str(path)), use_gpu=use_gpu)
