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
import json
import os
import statistics
import sys
import time
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QA = ROOT / "bench" / "data" / "qa"
SETS = {
    "demo": (QA / "demo.jsonl", ROOT / "knowledge_base" / "demo_corpus"),
    "public": (QA / "public.jsonl", QA / "public_docs"),
}
if "PYTHONPATH" not in os.environ:
    sys.path.insert(0, str(ROOT))


@dataclass
class Recorded:
    """One turn's outcome; the fields of assistant.answer_eval.Outcome."""

    id: str
    language: str
    answer: str = ""
    refused: bool = False
    fallback: str | None = None
    error: str | None = None
    source_texts: list[str] = field(default_factory=list)
    source_docs: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    first_text_ms: float | None = None
    first_audio_ms: float | None = None
    wall_ms: float = 0.0


def load_rows(path: Path, per_language: int) -> list[dict]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    taken: dict[tuple[str, bool], int] = defaultdict(int)
    picked = []
    for row in rows:
        key = (row["language"], row.get("answerable", True))
        limit = per_language if key[1] else max(1, per_language // 3)
        if taken[key] < limit:
            taken[key] += 1
            picked.append(row)
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


async def record(assistant, kb, row: dict, collection: str, spoken: bool = False) -> Recorded:
    from assistant.types import AnswerDelta, AudioData, SourcesFound, TurnEnd, TurnError

    outcome = Recorded(row["id"], row["language"])
    started = time.perf_counter()
    sources = []
    turn = assistant.answer_spoken if spoken else assistant.answer
    async for event in turn(row["question"], collection=collection):
        elapsed = round((time.perf_counter() - started) * 1000, 1)
        if isinstance(event, SourcesFound):
            sources = event.sources
        elif isinstance(event, AnswerDelta) and outcome.first_text_ms is None:
            outcome.first_text_ms = elapsed
        elif isinstance(event, AudioData) and outcome.first_audio_ms is None:
            outcome.first_audio_ms = elapsed
        elif isinstance(event, TurnEnd):
            outcome.answer, outcome.refused = event.answer, event.refused
            outcome.fallback, outcome.timings = event.fallback, event.timings
            outcome.error = getattr(event, "error", None)
        elif isinstance(event, TurnError):
            outcome.error = event.code
    outcome.wall_ms = round((time.perf_counter() - started) * 1000, 1)
    outcome.source_docs = [s.doc_id for s in sources]
    wanted = {s.chunk_id for s in sources}
    retriever = kb.collection(collection).retriever()
    hits = retriever.retrieve(row["question"]) + retriever.retrieve(outcome.answer or "-")
    texts = {h.chunk.id: h.chunk.text for h in hits if h.chunk.id in wanted}
    outcome.source_texts = list(texts.values()) + [s.snippet for s in sources]
    return outcome


async def record_all(args: argparse.Namespace) -> None:
    from assistant.config import AssistantSettings
    from assistant.turn import Assistant

    kb = knowledge_base(args.home)
    settings = AssistantSettings(first_token_timeout_s=args.first_token_timeout)
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
        (row, name) for name in args.sets for row in load_rows(SETS[name][0], args.per_language)
    ]
    outcomes: list[Recorded] = []
    try:
        for start in range(0, len(jobs), args.sessions):
            batch = jobs[start : start + args.sessions]
            done = await asyncio.gather(
                *(record(assistant, kb, row, name, args.spoken) for row, name in batch)
            )
            for (row, _), outcome in zip(batch, done, strict=True):
                if prompt_sizes and args.sessions == 1:
                    outcome.timings["prompt_tokens"] = float(max(prompt_sizes))
                prompt_sizes.clear()
                outcomes.append(outcome)
                print(
                    f"{row['language']} {outcome.first_text_ms or 0:>8.0f} ms "
                    f"{'refused' if outcome.refused else outcome.fallback or 'model'} "
                    f"{outcome.error or ''} | {row['question'][:40]} -> {outcome.answer[:80]!r}",
                    file=sys.stderr,
                )
    finally:
        await assistant.aclose()
    with args.out.open("w", encoding="utf-8") as out:
        for outcome in outcomes:
            out.write(json.dumps(asdict(outcome), ensure_ascii=False) + "\n")
    print(f"wrote {len(outcomes)} outcomes to {args.out}; load {os.getloadavg()}")


def score_files(paths: list[Path]) -> None:
    from assistant.answer_eval import QAItem, format_table, read_outcomes, score, summarise

    items: dict[str, QAItem] = {}
    for qa_path, _corpus in SETS.values():
        for line in qa_path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            items[row["id"]] = QAItem(
                row["id"], row["language"], row["question"], row["answers"],
                row.get("answerable", True), row.get("set", ""), row.get("documents", []),
            )  # fmt: skip
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
