"""The answer benchmark, before/after: gold-answer rate, invented figures, refusals, script,
colloquial Cantonese, citations and time to first text, per language (bench/data/qa).

Two steps, so that another version of the code can be measured by the same rules:
1. `record`: ingest the demo corpus (collection `demo`) and the public reading-comprehension
   paragraphs (collection `public`) into --home (kept between runs), then run each question
   as a new typed turn with whatever `assistant` package is first on PYTHONPATH, and write
   each outcome (answer, refusal, fallback, source texts, timings) as JSONL. `--sessions 4`
   runs four callers at once (each question batch starts together).
2. `score`: score outcome files with assistant/answer_eval.py and print the table.

    # after (this checkout)
    PYTHONPATH=$PWD .venv/bin/python bench/answers_benchmark.py record --out after.jsonl
    # before (another checkout, e.g. main)
    PYTHONPATH=/work/main .venv/bin/python bench/answers_benchmark.py record --out before.jsonl
    PYTHONPATH=$PWD .venv/bin/python bench/answers_benchmark.py score before.jsonl after.jsonl

Bounded: --per-language N questions per language and set (default 6), in file order.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QA = ROOT / "bench" / "data" / "qa"
SETS = {
    "demo": (QA / "demo.jsonl", ROOT / "knowledge_base" / "demo_corpus"),
    "public": (QA / "public.jsonl", QA / "public_docs"),
}
if "PYTHONPATH" not in os.environ:
    sys.path.insert(0, str(ROOT))


def load_rows(path: Path, per_language: int) -> list:
    """The first `per_language` answerable and a third as many unanswerable questions per
    language, in file order."""
    from assistant.answer_eval import load_qa

    taken: dict[tuple[str, bool], int] = defaultdict(int)
    picked = []
    for item in load_qa(path):
        key = (item.language, item.answerable)
        limit = per_language if item.answerable else max(1, per_language // 3)
        if taken[key] < limit:
            taken[key] += 1
            picked.append(item)
    return picked


def knowledge_base(home: Path):
    from knowledge_base import KnowledgeBase, KnowledgeBaseSettings

    kb = KnowledgeBase(KnowledgeBaseSettings(home=home))
    for name, (_qa, corpus) in SETS.items():
        if name not in kb.collections():
            started = time.perf_counter()
            kb.collection(name).ingest([corpus])
            print(f"ingested {name} in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return kb


def with_settings(settings, items: list[str]):
    """`settings` with KEY=VALUE items applied (dotted keys reach nested sections), each value
    validated by the settings model as a configuration file's would be."""
    values = settings.model_dump()
    for item in items:
        key, value = item.split("=", 1)
        *parents, leaf = key.split(".")
        section = values
        for name in parents:
            section = section[name]
        if leaf not in section:
            raise SystemExit(f"--setting {key}: no such setting")
        section[leaf] = value
    return type(settings).model_validate(values)


async def record_all(args: argparse.Namespace) -> None:
    from assistant.answer_eval import record_turn, write_outcomes
    from assistant.config import AssistantSettings
    from assistant.turn import Assistant

    kb = knowledge_base(args.home)
    settings = AssistantSettings(first_token_timeout_s=args.first_token_timeout)
    if args.setting:  # e.g. evidence_budget_tokens=160 llama_cpp.model_path=/tmp/m.gguf
        settings = with_settings(settings, args.setting)
    if args.model:  # only in checkouts that have the setting (not in the first version)
        settings.llama_cpp.model = args.model
    if args.contexts:
        settings.llama_cpp.n_contexts = args.contexts
    voice_for = None
    if args.spoken:
        from voices.tts.registry import VoiceRegistry

        voice_for = VoiceRegistry().voice
    assistant = Assistant.from_settings(settings, kb, voice_for=voice_for)
    import assistant as package

    prompt_sizes: list[int] = []
    chat_model = getattr(assistant.generator, "chat_model", None)
    if hasattr(chat_model, "prompt_tokens"):  # the embedded engine of this version: count
        count = chat_model.prompt_tokens

        def counted(messages):
            tokens, stop, system = count(messages)
            prompt_sizes.append(len(tokens))
            return tokens, stop, system

        object.__setattr__(chat_model, "prompt_tokens", counted)

    print(f"assistant code: {Path(package.__file__).parent}", file=sys.stderr)
    jobs = [
        (item, name) for name in args.sets for item in load_rows(SETS[name][0], args.per_language)
    ]
    outcomes = []
    try:
        for start in range(0, len(jobs), args.sessions):
            batch = jobs[start : start + args.sessions]
            done = await asyncio.gather(
                *(
                    record_turn(assistant, kb, item, name, spoken=args.spoken)
                    for item, name in batch
                )
            )
            for (item, _), outcome in zip(batch, done, strict=True):
                if prompt_sizes and args.sessions == 1:
                    outcome.timings["prompt_tokens"] = float(max(prompt_sizes))
                prompt_sizes.clear()
                outcomes.append(outcome)
                print(
                    f"{item.language} {outcome.first_text_ms or 0:>8.0f} ms "
                    f"{'refused' if outcome.refused else outcome.fallback or 'model'} "
                    f"{outcome.error or ''} | {item.question[:40]} -> {outcome.answer[:80]!r}",
                    file=sys.stderr,
                )
    finally:
        await assistant.aclose()
    write_outcomes(args.out, outcomes)
    print(f"wrote {len(outcomes)} outcomes to {args.out}; load {os.getloadavg()}")


def score_files(paths: list[Path]) -> None:
    from assistant.answer_eval import format_table, load_qa, read_outcomes, score, summarise

    items = {item.id: item for qa_path, _corpus in SETS.values() for item in load_qa(qa_path)}
    for path in paths:
        outcomes = read_outcomes(path)
        scores = [score(items[o.id], o) for o in outcomes]
        timeouts = sum(o.error == "timeout" for o in outcomes)
        print(f"== {path} ({len(outcomes)} questions, {timeouts} first-token timeouts)")
        print(format_table(summarise(scores)))
        sizes: dict[str, list[float]] = defaultdict(list)
        for outcome in outcomes:
            if "prompt_tokens" in outcome.timings:
                sizes[outcome.language].append(outcome.timings["prompt_tokens"])
        if sizes:
            print(
                "prompt tokens (p50 / max): "
                + ", ".join(
                    f"{lang} {statistics.median(v):.0f} / {max(v):.0f}" for lang, v in sizes.items()
                )
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    rec = commands.add_parser("record")
    rec.add_argument("--out", type=Path, required=True)
    rec.add_argument("--home", type=Path, default=Path("/tmp/samyu-answers-bench"))
    rec.add_argument("--sets", nargs="+", default=["demo", "public"], choices=sorted(SETS))
    rec.add_argument("--per-language", type=int, default=6)
    rec.add_argument("--sessions", type=int, default=1, help="callers at once")
    rec.add_argument("--first-token-timeout", type=float, default=30.0)
    rec.add_argument("--spoken", action="store_true", help="synthesise speech (first audio)")
    rec.add_argument("--model", default=None, help="packaged model key (llama_cpp.model)")
    rec.add_argument("--contexts", type=int, default=0, help="llama_cpp.n_contexts")
    rec.add_argument("--setting", nargs="*", default=[], help="KEY=VALUE assistant settings")
    sc = commands.add_parser("score")
    sc.add_argument("outcomes", type=Path, nargs="+")
    args = parser.parse_args()
    print(f"load average at start: {os.getloadavg()} (2 cores shared by 7 helpers)")
    if args.command == "record":
        asyncio.run(record_all(args))
    else:
        score_files(args.outcomes)


if __name__ == "__main__":
    main()
