"""Grammatical (function) words among the evidence gate's content terms, before/after (issue 14):
the gate as it is (`assistant.gate.content_terms`) against the same terms less the words of
bench/data/function_words/function_words.tsv (jieba's and HKCanCor's grammatical words by part
of speech; README.md there). Measured, not shipped: docs/llm.md.

1. Pairs (default): bench/data/colloquial/, sentences of the UD Cantonese-HK treebank with their
   written Chinese twins of UD Chinese-HK (film dialogue and a Legislative Council meeting; CC
   BY-SA 4.0): `--split dev` (526 pairs, where the list's classes were chosen) or `--split test`
   (300 pairs, run once after the choice). The Cantonese sentence is the question, its written
   twin the source: `assistant.gate.term_overlap` of the question's content terms, against the
   gate's `min_term_overlap` (0.6). "mismatched" pairs each question with the written twin of
   another pair of the same part (a wrong source).
2. `--gate`: every question of the answer benchmark (bench/data/qa, demo and public, answerable
   and not) retrieved with the real embedder from the collections `bench/answers_benchmark.py
   record` ingests into --home, then the answerer's own gate and figure check
   (`Answerer._answerable`), with each list; also with the dense scores removed (a BM25-only
   collection, or a question whose dense score falls between min_dense_with_terms and
   min_dense_score: the terms decide). No LLM call. Loads the embedder: run it under the lock.

    .venv/bin/python bench/kb_function_words.py [--split dev|test] [--examples 3] [--json]
    flock /work/notes/cpu.lock .venv/bin/python bench/kb_function_words.py --gate [--home H]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import statistics
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

from assistant import evidence, gate
from assistant.config import AssistantSettings
from assistant.gate import content_terms, term_overlap
from knowledge_base.normalise import for_matching

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "data" / "colloquial"
WORDS = ROOT / "bench" / "data" / "function_words" / "function_words.tsv"
SPLITS = {"dev": DATA / "dev.jsonl", "test": DATA / "pairs.jsonl"}


@cache
def function_words() -> frozenset[str]:
    """The list's words as the gate's tokenizer gives them (folded). A word the tokenizer cuts
    into pieces is left out: its pieces may be content words (一時間 -> 一時, 時間)."""
    tokenize = gate._terms_tokenizer()
    words = set()
    for line in WORDS.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            word = for_matching(line.split("\t", 1)[0])
            if word in tokenize(word):
                words.add(word)
    return frozenset(words)


def terms_without_function_words(text: str) -> set[str]:
    return content_terms(text) - function_words()


VARIANTS: dict[str, Callable[[str], set[str]]] = {
    "before (the gate as it is)": content_terms,
    "after (function words left out)": terms_without_function_words,
}


# ---- 1. pairs ---------------------------------------------------------------------------


def mismatched(pairs: list[dict]) -> list[int]:
    """For each pair, the index of the next pair of the same part (a fixed derangement)."""
    other = [0] * len(pairs)
    for part in sorted({p["part"] for p in pairs}):
        ids = [i for i, p in enumerate(pairs) if p["part"] == part]
        for a, b in zip(ids, ids[1:] + ids[:1], strict=True):
            other[a] = b
    return other


def summary(scores: list[float], sizes: list[int], threshold: float) -> dict[str, float]:
    return {
        "pairs": len(scores),
        "mean_overlap": round(statistics.fmean(scores), 3),
        "share_at_threshold": round(sum(v >= threshold for v in scores) / len(scores), 3),
        "no_terms": sum(n == 0 for n in sizes),
    }


def pairs_report(split: str, examples: int, threshold: float) -> dict[str, object]:
    pairs = [json.loads(line) for line in SPLITS[split].read_text().splitlines()]
    other = mismatched(pairs)
    rows: dict[str, object] = {}
    scores: list[list[float]] = []
    for name, terms_of in VARIANTS.items():
        terms = [terms_of(p["yue"]) for p in pairs]
        right = [term_overlap(t, p["zh"]) for t, p in zip(terms, pairs, strict=True)]
        wrong = [term_overlap(t, pairs[other[i]]["zh"]) for i, t in enumerate(terms)]
        sizes = [len(t) for t in terms]
        row = {"all": summary(right, sizes, threshold)}
        for part in ("film", "legco"):
            idx = [i for i, p in enumerate(pairs) if p["part"] == part]
            row[part] = summary([right[i] for i in idx], [sizes[i] for i in idx], threshold)
        row["mismatched"] = summary(wrong, sizes, threshold)
        rows[name] = row
        scores.append(right)
    before, after = scores
    order = sorted(range(len(pairs)), key=lambda i: (after[i] - before[i], -len(pairs[i]["yue"])))
    return {
        "split": split,
        "threshold": threshold,
        "variants": rows,
        "examples": [
            {
                **pairs[i],
                "terms_before": sorted(content_terms(pairs[i]["yue"])),
                "overlap_before": round(before[i], 2),
                "terms_after": sorted(terms_without_function_words(pairs[i]["yue"])),
                "overlap_after": round(after[i], 2),
            }
            for i in reversed(order[-examples:])
        ],
        "pairs_lower_after": [pairs[i]["id"] for i in range(len(pairs)) if after[i] < before[i]],
    }


def print_pairs(report: dict) -> None:
    threshold = report["threshold"]
    print(f"{report['split']} pairs, gate threshold {threshold}")
    for name, row in report["variants"].items():
        print(f"\n{name}")
        for part in ("all", "film", "legco", "mismatched"):
            s = row[part]
            print(
                f"  {part:10} n={s['pairs']:3}  mean overlap {s['mean_overlap']:.3f}  "
                f">= {threshold}: {s['share_at_threshold']:.1%}  "
                f"(no content terms: {s['no_terms']})"
            )
    print("\nexamples (largest gains):")
    for e in report["examples"]:
        print(f"  [{e['id']}] {e['yue']}\n       written: {e['zh']}")
        print(f"       before {e['overlap_before']:.2f} {' '.join(e['terms_before'])}")
        print(f"       after  {e['overlap_after']:.2f} {' '.join(e['terms_after'])}")
    lower = report["pairs_lower_after"]
    print(f"\npairs with a lower overlap after: {len(lower)} {' '.join(lower)}")


# ---- 2. the gate on the answer benchmark's questions ------------------------------------


@contextmanager
def terms_as(terms_of: Callable[[str], set[str]]) -> Iterator[None]:
    """The gate (assistant.gate) and the figure check (assistant.evidence) with these terms."""
    saved = gate.content_terms, evidence.content_terms
    gate.content_terms = evidence.content_terms = terms_of  # type: ignore[assignment]
    try:
        yield
    finally:
        gate.content_terms, evidence.content_terms = saved


async def gate_rows(home: Path) -> list[dict]:
    sys.path.insert(0, str(ROOT / "bench"))
    import answers_benchmark as bench

    from assistant.answer_eval import load_qa
    from assistant.stages.language import decide_language
    from assistant.turn import Assistant

    kb = bench.knowledge_base(home)
    assistant = Assistant.from_settings(AssistantSettings(), kb)
    answerer = assistant.answerer
    rows = []
    try:
        for name, (qa, _corpus) in bench.SETS.items():
            for item in load_qa(qa):
                lang = decide_language(item.question, declared=None, previous=None)
                hits = await answerer._retrieve(item.question, name, lang)
                bare = [dataclasses.replace(h, dense_score=None) for h in hits]
                row = {"id": item.id, "question": item.question, "answerable": item.answerable}
                for variant, terms_of in VARIANTS.items():
                    with terms_as(terms_of):
                        judged = answerer._judge(item.question, hits)
                        row[variant] = {
                            "passes": answerer._answerable(item.question, hits) is not None,
                            "passes_on_terms": answerer._answerable(item.question, bare)
                            is not None,
                            "overlap": round(judged.best_overlap, 3),
                            "dense": None
                            if judged.best_dense is None
                            else round(judged.best_dense, 3),
                        }
                rows.append(row)
    finally:
        await assistant.aclose()
    return rows


def print_gate(rows: list[dict]) -> None:
    for variant in VARIANTS:
        print(variant)
        for answerable in (True, False):
            chosen = [r for r in rows if r["answerable"] == answerable]
            passes = sum(r[variant]["passes"] for r in chosen)
            on_terms = sum(r[variant]["passes_on_terms"] for r in chosen)
            print(
                f"  {'answerable' if answerable else 'unanswerable':12} pass the gate "
                f"{passes}/{len(chosen)}; on terms alone (dense scores removed) "
                f"{on_terms}/{len(chosen)}"
            )
    before, after = VARIANTS
    print("questions whose overlap or decision changed:")
    for r in rows:
        b, a = r[before], r[after]
        if b != a:
            print(
                f"  {r['id']} answerable={r['answerable']} pass {b['passes']}->{a['passes']} "
                f"on terms {b['passes_on_terms']}->{a['passes_on_terms']} overlap "
                f"{b['overlap']:.2f}->{a['overlap']:.2f} dense {b['dense']} | {r['question']}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--split", choices=sorted(SPLITS), default="dev")
    parser.add_argument("--examples", type=int, default=3)
    parser.add_argument("--gate", action="store_true", help="the answer benchmark's questions")
    parser.add_argument("--home", type=Path, default=Path("/tmp/samyu-answers-bench"))
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    if args.gate:
        report: dict[str, object] = {"questions": asyncio.run(gate_rows(args.home))}
    else:
        report = pairs_report(args.split, args.examples, AssistantSettings().min_term_overlap)
    report["load_average"] = [round(x, 2) for x in os.getloadavg()]
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
        return
    if args.gate:
        print_gate(report["questions"])  # type: ignore[arg-type]
    else:
        print_pairs(report)
    print(f"load average: {report['load_average']}")


if __name__ == "__main__":
    main()
