"""Where the embedded model's first-sentence time goes, per turn: prompt tokens, tokens reused
from the KV cache (system prompt state), tokens actually read, time to read them, time to
the first token and to the first sentence, tokens/s; for several thread / batch settings.

Prompts are real answer prompts: the answerer's evidence selection over two demo documents
(the right one first) and each language's system prompt, three questions per language, in
the order en, yue, cmn, en, ... so every turn after the first of its language should only
read its evidence and question.

    flock /work/notes/cpu.lock .venv/bin/python bench/llm_prefix.py \
        [--variants 1:2:256 2:2:256 1:2:64] [--model qwen2.5-coder-0.5b]

A variant is n_threads:n_threads_batch:n_batch.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.config import AssistantSettings  # noqa: E402
from assistant.evidence import select_evidence  # noqa: E402
from assistant.generators.chat_model import to_langchain  # noqa: E402
from assistant.generators.llama_cpp import build_llama_cpp_generator  # noqa: E402
from assistant.prompts import PromptSource, answer_messages, prompt_text  # noqa: E402
from voices.sentences import SentenceSplitter  # noqa: E402

DEMO = ROOT / "knowledge_base" / "demo_corpus"
HANT = ["zh-hant/passport-fees.md", "zh-hant/id-card-replacement.md"]
QUESTIONS = [
    ("en", "How much is a 48-page passport?", ["en/passport-fees.md", "en/id-card-replacement.md"]),
    ("yue", "48頁護照要幾多錢？", HANT),
    ("cmn", "补领身份证要多少钱？", HANT[::-1]),
    ("en", "What does it cost to replace a lost identity card?",
     ["en/id-card-replacement.md", "en/passport-fees.md"]),
    ("yue", "補領身份證要幾多錢？", HANT[::-1]),
    ("cmn", "48页护照要多少钱？", HANT),
    ("en", "How much is a 32-page passport?", ["en/passport-fees.md", "en/id-card-replacement.md"]),
    ("yue", "身份證唔見咗幾耐內要補領？", HANT[::-1]),
    ("cmn", "32页护照要多少钱？", HANT),
]  # fmt: skip


def messages(language: str, question: str, files: list[str]):
    sources = [
        PromptSource(n, path, prompt_text((DEMO / path).read_text(encoding="utf-8")))
        for n, path in enumerate(files, 1)
    ]
    evidence = select_evidence(question, sources, budget_tokens=240)
    return answer_messages(question, evidence, language, hotline="1823")  # type: ignore[arg-type]


def counting(chat_model) -> list[dict]:
    """Wrap each context's `eval` to record how many tokens it reads and how long it takes."""
    log: list[dict] = []
    for context in chat_model._contexts:
        llama = context.llama
        original = llama.eval

        def timed(tokens, original=original):
            started = time.perf_counter()
            original(tokens)
            log.append({"tokens": len(tokens), "ms": (time.perf_counter() - started) * 1000})

        llama.eval = timed
    return log


async def turn(generator, msgs, log: list[dict]) -> dict:
    tokens, _stop, system = generator.chat_model.prompt_tokens(to_langchain(msgs))
    log.clear()
    started = time.perf_counter()
    first = first_sentence = None
    count = 0
    splitter = SentenceSplitter()
    async for text in generator.stream(msgs, max_tokens=48, temperature=0.1):
        now = time.perf_counter()
        first = first or now
        count += 1
        if first_sentence is None and splitter.feed(text):
            first_sentence = now
    end = time.perf_counter()
    prompt_reads = [e for e in log if e["tokens"] > 1]
    return {
        "prompt": len(tokens),
        "system": system,
        "read": sum(e["tokens"] for e in prompt_reads),
        "read_ms": sum(e["ms"] for e in prompt_reads),
        "first_token_ms": (first - started) * 1000 if first else None,
        "first_sentence_ms": ((first_sentence or end) - started) * 1000,
        "tokens_per_s": (count - 1) / (end - first) if first and count > 1 else float("nan"),
    }


async def variant(spec: str, model: str) -> None:
    threads, batch_threads, n_batch = (int(x) for x in spec.split(":"))
    settings = AssistantSettings()
    settings.llama_cpp.model = model  # type: ignore[assignment]
    settings.llama_cpp.n_threads = threads
    settings.llama_cpp.n_threads_batch = batch_threads
    settings.llama_cpp.n_batch = n_batch
    settings.llama_cpp.n_contexts = 1
    generator = build_llama_cpp_generator(settings)
    log = counting(generator.chat_model)
    rows = []
    for language, question, files in QUESTIONS:
        row = await turn(generator, messages(language, question, files), log)
        rows.append(row)
        print(
            f"  {spec} {language} prompt {row['prompt']} (system {row['system']}) read "
            f"{row['read']} in {row['read_ms']:.0f} ms; first token {row['first_token_ms']:.0f} ms;"
            f" first sentence {row['first_sentence_ms']:.0f} ms; {row['tokens_per_s']:.1f} tok/s",
            flush=True,
        )
    later = rows[3:]  # every language's system prompt already read once

    def p50(key: str) -> float:
        return statistics.median(r[key] for r in later)

    print(
        f"| {model} | {spec} | {p50('prompt'):.0f} | {p50('read'):.0f} | "
        f"{p50('read') / p50('read_ms') * 1000:.0f} | {p50('first_token_ms'):.0f} | "
        f"{p50('first_sentence_ms'):.0f} | {p50('tokens_per_s'):.1f} | "
        f"{os.getloadavg()[0]:.2f} |",
        flush=True,
    )
    await generator.aclose()


def memory(model: str, contexts: int, n_batch: int) -> None:
    """Resident memory the model and each further context add (RSS, after one prompt each)."""
    import psutil

    from assistant.generators.llama_cpp import LlamaCppChatModel
    from assistant.models import embedded_model_path

    settings = AssistantSettings()
    settings.llama_cpp.model = model  # type: ignore[assignment]
    process = psutil.Process()
    before = process.memory_info().rss
    chat = LlamaCppChatModel(
        model_path=str(embedded_model_path(settings)), n_contexts=contexts, n_batch=n_batch
    )
    chat.load()
    language, question, files = QUESTIONS[1]
    tokens, _stop, _system = chat.prompt_tokens(to_langchain(messages(language, question, files)))
    for context in chat._contexts:
        context.llama.eval(tokens)
    used = (process.memory_info().rss - before) / 2**20
    print(f"| {model} | {contexts} contexts | n_batch {n_batch} | RSS +{used:.0f} MiB |")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", nargs="+", default=["1:2:256", "2:2:256", "2:2:64"])
    parser.add_argument("--model", default="qwen2.5-coder-0.5b")
    parser.add_argument(
        "--memory", nargs="*", default=[], help="contexts:n_batch pairs: RSS of a pool, no timing"
    )
    args = parser.parse_args()
    for spec in args.memory:  # each in a fresh process, so the figures do not mix
        contexts, n_batch = spec.split(":")
        code = (
            "import sys; sys.argv=['x']; sys.path.insert(0, 'bench'); import llm_prefix; "
            f"llm_prefix.memory({args.model!r}, {contexts}, {n_batch})"
        )
        __import__("subprocess").run([sys.executable, "-c", code], cwd=ROOT, check=True)
    if args.memory:
        return
    print(f"# load average at start {os.getloadavg()}; {os.cpu_count()} cores")
    print(
        "| model | threads:batch threads:n_batch | prompt tok p50 | read tok p50 | read tok/s |"
        " first token ms p50 | first sentence ms p50 | gen tok/s | load |\n"
        "|---|---|---|---|---|---|---|---|---|"
    )
    for spec in args.variants:
        await variant(spec, args.model)


if __name__ == "__main__":
    asyncio.run(main())
