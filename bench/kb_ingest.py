"""Ingest throughput: files/s and chunks/s of `Collection.ingest`, and the share spent embedding.

A synthetic corpus of N Markdown files built from the demo corpus's English and Chinese
documents (each copy numbered so its hash differs); then a re-ingest of the unchanged corpus.

    .venv/bin/python bench/kb_ingest.py [--files 300] [--embedder use-multilingual]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from knowledge_base import KnowledgeBase, KnowledgeBaseSettings

CORPUS = Path(__file__).resolve().parent.parent / "knowledge_base" / "demo_corpus"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=300)
    parser.add_argument("--embedder", default="use-multilingual")
    args = parser.parse_args()
    sources = sorted(CORPUS.glob("*/*.md"))
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch) / "docs"
        root.mkdir()
        for i in range(args.files):
            text = sources[i % len(sources)].read_text(encoding="utf-8")
            (root / f"doc-{i:05d}.md").write_text(f"{text}\n\nRef {i}.\n", encoding="utf-8")
        kb = KnowledgeBase(KnowledgeBaseSettings(home=Path(scratch) / "home"))
        collection = kb.collection("bench")
        collection.update_settings(embedder=args.embedder)
        embedder = kb.embedder(collection.settings)
        embedder.embed_query("warm up")  # model load is not ingest throughput
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
        print(f"{args.files} files, {chunks} chunks, embedder {embedder.name}")
        print(
            f"first ingest: {report.seconds:.1f} s = {args.files / report.seconds:.1f} files/s, "
            f"{chunks / report.seconds:.1f} chunks/s (embedding {spent['embed']:.1f} s, "
            f"{100 * spent['embed'] / report.seconds:.0f}%)"
        )
        again = collection.ingest([root])
        print(
            f"re-ingest, all unchanged: {again.seconds:.2f} s "
            f"({again.count('unchanged')} unchanged, no new version)"
        )


if __name__ == "__main__":
    main()
