"""Ingest throughput of `Collection.ingest`: files/s, chunks/s, the share spent embedding, and
what that means for a 100,000-chunk corpus; then a re-ingest of the unchanged corpus.

Corpus: the public suite's paragraphs (bench/data/retrieval: 1,230 distinct Chinese and
English documents; `--files N` takes the first N, shuffled with a fixed seed), one Markdown
file each, or `--source demo` (demo documents copied and numbered). Fresh home: the
vector cache starts empty, so every chunk is embedded.

    .venv/bin/python bench/kb_ingest.py [--files 600] [--embedder use-multilingual]
        [--window 64] [--source suite|demo]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import tempfile
import time
from pathlib import Path

from knowledge_base import KnowledgeBase, KnowledgeBaseSettings

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "knowledge_base" / "demo_corpus"
SUITE = ROOT / "bench" / "data" / "retrieval"
TARGET_CHUNKS = 100_000


def _write_suite(root: Path, files: int) -> None:
    docs = []
    for name in ("cmrc2018-hant", "xquad-zh", "xquad-en", "scifact"):
        for line in (SUITE / name / "corpus.jsonl").read_text(encoding="utf-8").splitlines():
            doc = json.loads(line)
            docs.append((f"{name}-{doc['id']}", doc["title"], doc["text"]))
    random.Random(12).shuffle(docs)
    for doc_id, title, text in docs[:files]:
        (root / f"{doc_id}.md").write_text(f"# {title}\n\n{text}\n", encoding="utf-8")


def _write_demo(root: Path, files: int) -> None:
    sources = sorted(DEMO.glob("*/*.md"))
    for i in range(files):
        text = sources[i % len(sources)].read_text(encoding="utf-8")
        (root / f"doc-{i:05d}.md").write_text(f"{text}\n\nRef {i}.\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=600)
    parser.add_argument("--embedder", default="use-multilingual")
    parser.add_argument("--window", type=int, default=None, help="kb.ingest_batch_files")
    parser.add_argument("--source", choices=("suite", "demo"), default="suite")
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()} ({os.cpu_count()} cores)")
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch) / "docs"
        root.mkdir()
        (_write_suite if args.source == "suite" else _write_demo)(root, args.files)
        files = len(list(root.iterdir()))
        extra = {} if args.window is None else {"ingest_batch_files": args.window}
        kb = KnowledgeBase(KnowledgeBaseSettings(home=Path(scratch) / "home", **extra))
        collection = kb.collection("bench")
        collection.update_settings(embedder=args.embedder)
        embedder = kb.embedder(collection.settings)
        started = time.perf_counter()
        embedder.embed_query("warm up")  # model load is not ingest throughput
        load_s = time.perf_counter() - started
        spent = {"embed": 0.0}
        inner = embedder.embed_documents

        def timed(texts):  # measure the embedding share without changing the work
            started = time.perf_counter()
            try:
                return inner(texts)
            finally:
                spent["embed"] += time.perf_counter() - started

        embedder.embed_documents = timed  # type: ignore[method-assign]
        report = collection.ingest([root])
        chunks = report.chunks_embedded
        rate = chunks / report.seconds
        print(
            f"{files} files ({args.source}), {chunks} chunks, embedder {embedder.name} "
            f"(loaded in {load_s:.1f} s), window {kb.settings.ingest_batch_files} files"
        )
        print(
            f"first ingest: {report.seconds:.1f} s = {files / report.seconds:.1f} files/s, "
            f"{rate:.1f} chunks/s (embedding {spent['embed']:.1f} s, "
            f"{100 * spent['embed'] / report.seconds:.0f}%)"
        )
        print(
            f"{TARGET_CHUNKS:,} chunks at this rate: {TARGET_CHUNKS / rate / 3600:.2f} h "
            f"(target < 1 h = {TARGET_CHUNKS / 3600:.1f} chunks/s)"
        )
        again = collection.ingest([root])
        print(
            f"re-ingest, all unchanged: {again.seconds:.2f} s "
            f"({again.count('unchanged')} unchanged, no new version)"
        )
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {rss:.0f} MiB; load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
