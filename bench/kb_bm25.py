"""bm25s against rank_bm25 on the same tokens in one run: index time, query latency, agreement.

Corpus: the demo corpus's chunks, each repeated with a numbered suffix until N documents, so
both engines see the same real English and Chinese tokens (our tokenizer: jieba + PyStemmer).

    .venv/bin/python bench/kb_bm25.py [--docs 10000] [--queries 100]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import bm25s
import numpy as np
from rank_bm25 import BM25Okapi

from knowledge_base.bm25_store import BM25Index
from knowledge_base.chunking import chunk_document
from knowledge_base.evaluation import load_questions
from knowledge_base.loaders import LoadError, discover, load_file
from knowledge_base.tokenise import make_tokenizer

CORPUS = Path(__file__).resolve().parent.parent / "knowledge_base" / "demo_corpus"


def demo_texts() -> list[str]:
    texts = []
    for path, doc_id in discover([CORPUS]):
        try:
            documents = load_file(path, doc_id, max_bytes=10**7, max_faq_rows=10**5)
        except LoadError:
            continue
        for document in documents:
            chunks = chunk_document(document, "b", chunk_size=400, chunk_overlap=50, max_chunks=999)
            texts.extend(c.text for c in chunks)
    return texts


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=100)
    args = parser.parse_args()
    tokenize = make_tokenizer("jieba")
    base = demo_texts()
    texts = [f"{base[i % len(base)]} ref{i}" for i in range(args.docs)]
    queries = [q.query for q in load_questions(CORPUS / "questions.jsonl")][: args.queries]

    started = time.perf_counter()
    tokens = [tokenize(t) for t in texts]
    tokenize_s = time.perf_counter() - started
    print(f"{len(texts):,} docs, {len(queries)} queries; tokenising took {tokenize_s:.2f} s")

    started = time.perf_counter()
    model = bm25s.BM25()
    model.index(tokens, show_progress=False)
    bm25s_build = time.perf_counter() - started
    ours = BM25Index(model, tokenize)
    started = time.perf_counter()
    reference = BM25Okapi(tokens)
    rank_build = time.perf_counter() - started

    bm25s_ms, rank_ms, overlap = [], [], []
    for query in queries:
        q_tokens = tokenize(query)
        t = time.perf_counter()
        _s, top_ours = ours.search(query, 10)
        bm25s_ms.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        scores = reference.get_scores(q_tokens)
        top_ref = np.argsort(-scores)[:10]
        rank_ms.append((time.perf_counter() - t) * 1000)
        if len(top_ours):  # copies of one text tie, so compare which text each ranks first
            overlap.append(int(top_ours[0]) % len(base) == int(top_ref[0]) % len(base))
    for name, build_s, latencies in (
        ("bm25s", bm25s_build, bm25s_ms),
        ("rank_bm25", rank_build, rank_ms),
    ):
        p50, p99 = np.percentile(latencies, [50, 99])
        print(f"{name:>10}: index {build_s:6.2f} s   query p50 {p50:8.3f} ms  p99 {p99:8.3f} ms")
    print(
        f"same top text in bm25s and rank_bm25: {np.mean(overlap):.3f} of queries "
        "(their IDF formulas differ: Lucene-style vs Okapi with an epsilon floor)"
    )
    print(f"query speed-up: {np.median(rank_ms) / np.median(bm25s_ms):.0f}x")


if __name__ == "__main__":
    main()
