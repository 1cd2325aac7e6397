"""Retrieval time per typed question after the server's warm-up, first question and later
ones, per language: what a caller's turn spends in `retrieval` before the model is asked.

Each tree runs in a fresh process (as a restarted server): it opens the collection, warms it
the way that tree's `serving.runtime` does, then retrieves each demo question once (the
questions of bench/data/qa/demo.jsonl, languages interleaved, Cantonese first).

    flock /work/notes/cpu.lock .venv/bin/python bench/kb_query_latency.py \
        --home /tmp/samyu-answers-bench [--collection demo] [--tree DIR ...] [--rounds 2]

--home: a SAMYU_HOME whose collection is already ingested (bench/answers_benchmark.py record
makes one). --tree runs another checkout's code (e.g. main) for a before/after in one run.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QA = ROOT / "bench" / "data" / "qa" / "demo.jsonl"

CHILD = """
import json, sys, time
from knowledge_base import KnowledgeBase, KnowledgeBaseSettings
from knowledge_base.types import QueryOptions
import serving.runtime as runtime
home, collection, questions = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
kb = KnowledgeBase(KnowledgeBaseSettings(home=home))
retriever = kb.collection(collection).retriever()
for query in getattr(runtime, "WARM_UP_QUERIES", ("warm-up",)):
    retriever.retrieve(query, QueryOptions(k=1))
for language, question in questions:
    start = time.perf_counter()
    retriever.retrieve(question, QueryOptions(k=4))
    print(json.dumps([language, (time.perf_counter() - start) * 1000]))
"""


def questions(per_language: int) -> list[tuple[str, str]]:
    rows = [json.loads(line) for line in QA.read_text("utf-8").splitlines() if line]
    by_language: dict[str, list[str]] = {"yue": [], "cmn": [], "en": []}
    for row in rows:
        picked = by_language.get(row["language"])
        if picked is not None and len(picked) < per_language:
            picked.append(row["question"])
    return [
        (language, picked[i])
        for i in range(per_language)
        for language, picked in by_language.items()
        if i < len(picked)
    ]


def run(tree: Path, home: str, collection: str, asked: list[tuple[str, str]]) -> list:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    out = subprocess.run(
        [sys.executable, "-c", CHILD, home, collection, json.dumps(asked, ensure_ascii=False)],
        env=env,
        cwd=tree,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [json.loads(line) for line in out.splitlines() if line.startswith("[")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", required=True)
    parser.add_argument("--collection", default="demo")
    parser.add_argument("--tree", type=Path, nargs="+", default=[ROOT])
    parser.add_argument("--per-language", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=2, help="fresh processes per tree")
    args = parser.parse_args()
    asked = questions(args.per_language)
    print(f"# {len(asked)} questions; load {os.getloadavg()}; {os.cpu_count()} cores")
    print("| tree | round | first question (yue) | later p50 yue / cmn / en | load |")
    print("|---|---|---|---|---|")
    for round_number in range(1, args.rounds + 1):
        for tree in args.tree:  # interleaved, so a change in load hits every tree alike
            timed = run(tree, args.home, args.collection, asked)
            later = {
                lang: statistics.median(ms for language, ms in timed[1:] if language == lang)
                for lang in ("yue", "cmn", "en")
            }
            print(
                f"| {tree} | {round_number} | {timed[0][1]:.0f} ms | "
                f"{later['yue']:.0f} / {later['cmn']:.0f} / {later['en']:.0f} ms | "
                f"{os.getloadavg()[0]:.2f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
