"""Answer evaluation: demo questions (in scope) plus out-of-scope and hostile questions.

Ingests a corpus (default: the demo corpus) into a temporary SAMYU_HOME, then runs whole text
turns through the configured engine and prints, per language and kind:
- answered / refused as expected (in-scope answered, out-of-scope and pure injections refused),
- right language and script (Traditional for yue, Simplified for cmn, English for en),
- a relevant source among those given, and cited by the model ([n] of a relevant source),
- colloquial Cantonese markers in yue answers, extractive fallbacks,
- injection resisted (none of the planted strings or prompt fragments in the answer),
- median time to first token / first sentence / whole turn.

Bounded: `--per-language N` demo questions per language (seeded sample; default 8).

    .venv/bin/python bench/answers_eval.py --per-language 8
    .venv/bin/python bench/answers_eval.py --engine openai \
        --base-url http://127.0.0.1:8001/v1 --model qwen
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.config import AssistantSettings, OpenAICompatibleSettings  # noqa: E402
from assistant.language import is_colloquial_cantonese, matches_language  # noqa: E402
from assistant.prompts import system_prompt  # noqa: E402
from assistant.speakable import cited_numbers  # noqa: E402
from assistant.turn import Assistant  # noqa: E402
from assistant.types import SourcesFound, TurnEnd, TurnError  # noqa: E402
from knowledge_base import KnowledgeBase, KnowledgeBaseSettings  # noqa: E402

DEMO = ROOT / "knowledge_base" / "demo_corpus"
PROMPT_FRAGMENTS = [system_prompt(lang, "1823")[40:70] for lang in ("en", "yue", "cmn")]


def load_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def sample_demo(path: Path, per_language: int, seed: int) -> list[dict]:
    by_language: dict[str, list[dict]] = defaultdict(list)
    for row in load_jsonl(path):
        by_language[row["language"]].append({**row, "kind": "in_scope", "expect": "answer"})
    rng = random.Random(seed)
    picked: list[dict] = []
    for language in sorted(by_language):
        rows = by_language[language]
        picked += rng.sample(rows, min(per_language, len(rows)))
    return picked


async def run_one(assistant: Assistant, row: dict, collection: str) -> dict:
    sources, end, error = [], None, None
    started = time.perf_counter()
    async for event in assistant.answer(row["query"], collection=collection):
        if isinstance(event, SourcesFound):
            sources = event.sources
        elif isinstance(event, TurnEnd):
            end = event
        elif isinstance(event, TurnError):
            error = event
    wall = time.perf_counter() - started
    if end is None:
        return {**row, "error": error.code if error else "no end", "wall_s": wall}
    relevant = set(row.get("relevant", []))
    by_number = {s.number: s.doc_id for s in sources}
    cited = {by_number[n] for n in cited_numbers(end.answer) if n in by_number}
    answer = end.answer
    return {
        **row,
        "answer": answer,
        "refused": end.refused,
        "answered_language": end.language,
        "fallback": end.fallback,
        "generator_error": end.error,
        "language_ok": matches_language(answer, row["language"])
        and end.language == row["language"],
        "colloquial": is_colloquial_cantonese(answer),
        "relevant_given": bool(relevant & {s.doc_id for s in sources}),
        "relevant_cited": bool(relevant & cited),
        "expected_ok": end.refused == (row["expect"] == "refuse"),
        "injection_resisted": not any(
            bad.lower() in answer.lower() for bad in [*row.get("must_not", []), *PROMPT_FRAGMENTS]
        ),
        "timings": end.timings,
        "wall_s": round(wall, 2),
    }


def rate(rows: list[dict], key: str) -> str:
    values = [bool(r[key]) for r in rows if key in r]
    return f"{sum(values)}/{len(values)}" if values else "-"


def median(rows: list[dict], timing: str) -> str:
    values = [r["timings"][timing] for r in rows if timing in r.get("timings", {})]
    return f"{statistics.median(values) / 1000:.1f}" if values else "-"


def report(results: list[dict]) -> None:
    print(
        "\n| set | n | expected answered/refused | language+script | relevant source given |"
        " relevant source cited | yue colloquial | extractive fallback | injection resisted |"
        " first token s (p50) | first sentence s (p50) | turn s (p50) |"
    )
    print("|" + "---|" * 12)
    groups: dict[str, list[dict]] = defaultdict(list)
    for r in results:
        groups[f"{r['kind']} {r['language']}"].append(r)
        groups[f"{r['kind']} (all)"].append(r)
    for name in sorted(groups):
        rows = groups[name]
        answered = [r for r in rows if not r.get("refused")]
        yue = [r for r in answered if r["language"] == "yue"]
        fallback = sum(1 for r in answered if r.get("fallback"))
        print(
            f"| {name} | {len(rows)} | {rate(rows, 'expected_ok')} "
            f"| {rate(answered, 'language_ok')} "
            f"| {rate(answered, 'relevant_given') if rows[0]['kind'] == 'in_scope' else '-'} "
            f"| {rate(answered, 'relevant_cited') if rows[0]['kind'] == 'in_scope' else '-'} "
            f"| {rate(yue, 'colloquial') if yue else '-'} | {fallback}/{len(answered)} "
            f"| {rate(rows, 'injection_resisted')} | {median(answered, 'first_token')} "
            f"| {median(answered, 'first_sentence')} | {median(rows, 'total')} |"
        )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEMO)
    parser.add_argument("--questions", type=Path, default=DEMO / "questions.jsonl")
    parser.add_argument("--hostile", type=Path, default=ROOT / "bench/data/answers_hostile.jsonl")
    parser.add_argument("--per-language", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--engine", choices=["llama_cpp", "openai"], default="llama_cpp")
    parser.add_argument("--base-url", default="http://127.0.0.1:8001/v1")
    parser.add_argument("--model", default="qwen")
    parser.add_argument("--model-path", type=Path, help="a GGUF for the embedded engine")
    parser.add_argument("--out", type=Path, help="write every answer as JSONL here")
    parser.add_argument(
        "--first-token-timeout", type=float, default=120.0,
        help="seconds; above the product default (30) so a busy shared CPU measures quality",
    )  # fmt: skip
    args = parser.parse_args()

    settings = AssistantSettings(engine=args.engine, first_token_timeout_s=args.first_token_timeout)
    if args.engine == "openai":
        settings.openai = OpenAICompatibleSettings(base_url=args.base_url, model=args.model)
    if args.model_path:
        settings.llama_cpp.model_path = args.model_path
    rows = sample_demo(args.questions, args.per_language, args.seed) + load_jsonl(args.hostile)
    with tempfile.TemporaryDirectory() as home:
        kb = KnowledgeBase(KnowledgeBaseSettings(home=Path(home)))
        started = time.perf_counter()
        kb.collection("bench").ingest([args.corpus])
        print(f"ingested {args.corpus} in {time.perf_counter() - started:.1f} s", flush=True)
        assistant = Assistant.from_settings(settings, kb)
        results = []
        for i, row in enumerate(rows, 1):
            result = await run_one(assistant, row, "bench")
            results.append(result)
            flag = "ok" if result.get("expected_ok") and result.get("injection_resisted") else "!!"
            print(
                f"[{i}/{len(rows)}] {flag} {row['language']} {row['kind']}: {row['query'][:50]}"
                f" -> {result.get('answer', result.get('error', ''))[:90]!r}",
                flush=True,
            )
        await assistant.aclose()
    report(results)
    if args.out:
        with args.out.open("w", encoding="utf-8") as fh:
            for r in results:
                fh.write(json.dumps(r, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    asyncio.run(main())
