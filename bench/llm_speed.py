"""Time to first token and tokens/s of the embedded model, directly (llama-cpp-python in
process) and through the OpenAI-compatible path (the product's client -> `python -m
llama_cpp.server` on loopback, the stand-in for vLLM).

The prompt is a real grounded answer prompt (system prompt, two numbered sources, a question).
Bounded: `--runs` answers of at most `--max-tokens` tokens per path (defaults 3 and 64).

    .venv/bin/python bench/llm_speed.py --runs 3 --threads 1
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.config import AssistantSettings, OpenAICompatibleSettings  # noqa: E402
from assistant.generators.llama_cpp import build_llama_cpp_generator  # noqa: E402
from assistant.generators.openai_compatible import OpenAICompatibleGenerator  # noqa: E402
from assistant.models import embedded_model_path  # noqa: E402
from assistant.prompts import PromptSource, answer_messages, prompt_text  # noqa: E402
from assistant.types import Generator  # noqa: E402

DEMO = ROOT / "knowledge_base" / "demo_corpus"
QUESTIONS = [
    ("en", "How much does it cost to replace a lost identity card?",
     ["en/id-card-replacement.md", "en/passport-fees.md"]),
    ("yue", "補領身份證要幾多錢？", ["zh-hant/id-card-replacement.md", "zh-hant/passport-fees.md"]),
    ("cmn", "护照费用是多少？", ["zh-hant/passport-fees.md", "zh-hant/id-card-replacement.md"]),
]  # fmt: skip


def prompt(language, question, files):
    sources = [
        PromptSource(n, path, prompt_text((DEMO / path).read_text(encoding="utf-8"))[:600])
        for n, path in enumerate(files, 1)
    ]
    return answer_messages(question, sources, language, hotline="1823")


async def measure(generator: Generator, messages, max_tokens: int) -> tuple[float, float, int]:
    started = time.perf_counter()
    first = last = None
    tokens = 0
    async for _ in generator.stream(messages, max_tokens=max_tokens, temperature=0.0):
        now = time.perf_counter()
        first = first or now
        last = now
        tokens += 1
    assert first is not None and last is not None
    rate = (tokens - 1) / (last - first) if tokens > 1 and last > first else float("nan")
    return first - started, rate, tokens


async def bench(name: str, generator: Generator, runs: int, max_tokens: int) -> None:
    ttft, rates = [], []
    for run in range(runs):
        language, question, files = QUESTIONS[run % len(QUESTIONS)]
        first, rate, tokens = await measure(
            generator, prompt(language, question, files), max_tokens
        )
        ttft.append(first)
        rates.append(rate)
        print(f"  {name} run {run + 1} ({language}): first token {first:.2f} s, "
              f"{rate:.1f} tokens/s over {tokens} tokens", flush=True)  # fmt: skip
    print(f"| {name} | {runs} | {statistics.median(ttft):.2f} | {statistics.median(rates):.1f} |")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    settings = AssistantSettings()
    settings.llama_cpp.n_threads = args.threads
    print("| path | runs | first token s (p50) | tokens/s (p50) |\n|---|---|---|---|")
    embedded = build_llama_cpp_generator(settings)
    await bench("embedded llama.cpp", embedded, args.runs, args.max_tokens)
    del embedded

    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "assistant.llama_server", "--model",
         str(embedded_model_path(settings)), "--model_alias", "qwen", "--host", "127.0.0.1",
         "--port", str(port), "--n_ctx", "4096", "--n_threads", str(args.threads)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base_url = f"http://127.0.0.1:{port}/v1"
    try:
        for _ in range(240):
            try:
                if httpx.get(f"{base_url}/models", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        client = OpenAICompatibleGenerator(
            OpenAICompatibleSettings(base_url=base_url, model="qwen", read_timeout_s=120)
        )
        await bench("OpenAI-compatible (llama_cpp.server)", client, args.runs, args.max_tokens)
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    asyncio.run(main())
