"""FAISS Flat vs IVF vs HNSW: build time, query latency p50/p99 and recall@10 against Flat.

Synthetic clustered unit vectors (512-d, the USE embedder's size), single-query latency as the
voice server sees it. Bounded: 10k and 100k by default; `--million` adds 1M (minutes, ~2 GB).

    .venv/bin/python bench/kb_faiss.py [--sizes 10000 100000] [--million] [--hard] [--queries 200]
"""

from __future__ import annotations

import argparse
import time

import faiss
import numpy as np

from knowledge_base.dense_store import DenseIndex, build_index


def embedding_like(n: int, d: int, rng: np.random.Generator, latent: int = 48) -> np.ndarray:
    """Unit vectors with a low intrinsic dimension, as sentence embeddings have: a random
    linear image of a 48-d latent (from 512 topic clusters) plus a little isotropic noise."""
    projection = np.random.default_rng(42).standard_normal((latent, d)).astype(np.float32)
    topics = np.random.default_rng(43).standard_normal((512, latent)).astype(np.float32)
    z = topics[rng.integers(0, 512, n)] + 0.5 * rng.standard_normal((n, latent)).astype(np.float32)
    x = z @ projection + 0.5 * rng.standard_normal((n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def run(n: int, d: int, queries: int, hard: bool, k: int = 10) -> None:
    rng = np.random.default_rng(0)
    make = hard_clusters if hard else embedding_like
    data = make(n, d, rng)
    probes = make(queries, d, rng)
    truth: np.ndarray | None = None
    for kind, knob in (("flat", 0), ("ivf", 8), ("ivf", 32), ("hnsw", 64), ("hnsw", 256)):
        started = time.perf_counter()
        if kind == "flat" or knob in (8, 64):
            index = DenseIndex(build_index(data, kind), use_gpu=False)  # type: ignore[arg-type]
        build_s = time.perf_counter() - started
        latencies, found = [], []
        for q in probes:
            t = time.perf_counter()
            _scores, positions = index.search(q, k, nprobe=knob or 1, ef_search=knob or 1)
            latencies.append((time.perf_counter() - t) * 1000)
            found.append(positions)
        found_arr = np.array(found)
        if truth is None:
            truth = found_arr
        recall = np.mean([len(set(a) & set(b)) / k for a, b in zip(found_arr, truth, strict=True)])
        p50, p99 = np.percentile(latencies, [50, 99])
        print(
            f"{n:>9,} {kind:>5} {_knob(kind, knob):>13}  build {build_s:7.2f} s"
            f"  p50 {p50:7.3f} ms  p99 {p99:7.3f} ms"
            f"  recall@{k} vs flat {recall:.3f}",
            flush=True,
        )


def _knob(kind: str, knob: int) -> str:
    return {"flat": "", "ivf": f"nprobe={knob}", "hnsw": f"efSearch={knob}"}[kind]


def hard_clusters(n: int, d: int, rng: np.random.Generator, centres: int = 256) -> np.ndarray:
    """A hard case for approximate search: 256 clusters with full-rank noise, so the points of
    one cluster are nearly equidistant and graph/list shortcuts find few true neighbours."""
    middle = np.random.default_rng(44).standard_normal((centres, d)).astype(np.float32)
    x = middle[rng.integers(0, centres, n)] + 0.6 * rng.standard_normal((n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--million", action="store_true")
    parser.add_argument("--hard", action="store_true", help="hard clustered data instead")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--dim", type=int, default=512)
    parser.add_argument("--threads", type=int, default=1, help="OpenMP threads (1: per-query)")
    args = parser.parse_args()
    faiss.omp_set_num_threads(args.threads)
    print(
        f"faiss {faiss.__version__}, {faiss.omp_get_max_threads()} threads, d={args.dim}, "
        "IVF nlist=4*sqrt(n), HNSW M=32 efConstruction=64 (build time printed once per index)"
    )
    for n in [*args.sizes, *([1_000_000] if args.million else [])]:
        run(n, args.dim, args.queries, args.hard)


if __name__ == "__main__":
    main()
