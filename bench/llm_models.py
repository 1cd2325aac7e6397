"""Which embedded GGUF answers best: each candidate runs the same grounded questions in
English, Cantonese and Mandarin through the whole turn (real demo knowledge base, evidence
gate, checks), and is scored on answers the model itself got right.

"model right" = not refused, no extractive fallback (the model's own answer passed the
grounding, prompt-leak and language checks), the expected fact in the answer, and the
answer in the caller's language and script. Also: extractive fallbacks, time taken.

    .venv/bin/python bench/llm_models.py                        # the packaged Qwen only
    .venv/bin/python bench/llm_models.py --model smollm2=/path/SmolLM2-135M-Instruct.Q4_1.gguf
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.config import AssistantSettings  # noqa: E402
from assistant.generators.llama_cpp import build_llama_cpp_generator  # noqa: E402
from assistant.language import matches_language  # noqa: E402
from assistant.turn import Assistant  # noqa: E402
from assistant.types import TurnEnd  # noqa: E402
from knowledge_base import KnowledgeBase, KnowledgeBaseSettings  # noqa: E402

QUESTIONS = [
    ("en", "How much is a 48-page passport?", "460"),
    ("en", "How much does it cost to replace a lost identity card?", "370"),
    ("en", "How much does it cost to renew a full driving licence for 10 years?", "900"),
    ("yue", "48頁護照幾多錢？", "460"),
    ("yue", "補領身份證要幾多錢？", "370"),
    ("yue", "續領10年駕駛執照要幾多錢？", "900"),
    ("cmn", "48页护照多少钱？", "460"),
    ("cmn", "补领身份证要多少钱？", "370"),
    ("cmn", "续领10年驾驶执照要多少钱？", "900"),
]


async def evaluate(name: str, settings: AssistantSettings, kb: KnowledgeBase) -> None:
    assistant = Assistant.from_settings(settings, kb, generator=build_llama_cpp_generator(settings))
    right = fallbacks = 0
    by_language: dict[str, int] = {"en": 0, "yue": 0, "cmn": 0}
    for language, question, fact in QUESTIONS:
        end = None
        async for event in assistant.answer(question, collection="demo"):
            if isinstance(event, TurnEnd):
                end = event
        assert end is not None
        ok = (
            not end.refused
            and end.fallback is None
            and fact in end.answer
            and matches_language(end.answer, language)
        )
        right += ok
        by_language[language] += ok
        fallbacks += end.fallback is not None
        verdict = "RIGHT" if ok else "wrong"
        print(f"  {name} {language} {verdict} fallback={end.fallback} error={end.error}: "
              f"{question} -> {end.answer[:100]!r}", flush=True)  # fmt: skip
    per_language = ", ".join(f"{lang} {n}/3" for lang, n in by_language.items())
    print(f"| {name} | {right}/{len(QUESTIONS)} ({per_language}) | {fallbacks}/{len(QUESTIONS)} |")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--model", action="append", default=[], metavar="NAME=GGUF",
        help="a candidate GGUF (repeatable); the packaged Qwen is always included",
    )  # fmt: skip
    args = parser.parse_args()
    candidates: list[tuple[str, Path | None]] = [("qwen2.5-coder-0.5b (packaged)", None)]
    for spec in args.model:
        name, _, path = spec.partition("=")
        candidates.append((name, Path(path)))
    with tempfile.TemporaryDirectory() as home:
        kb = KnowledgeBase(KnowledgeBaseSettings(home=Path(home)))
        kb.collection("demo").ingest([ROOT / "knowledge_base" / "demo_corpus"])
        results = []
        for name, path in candidates:
            settings = AssistantSettings(first_token_timeout_s=120)
            settings.llama_cpp.model_path = path
            started = time.perf_counter()
            await evaluate(name, settings, kb)
            results.append((name, time.perf_counter() - started))
        for name, seconds in results:
            print(f"{name}: {seconds:.0f} s for {len(QUESTIONS)} questions")
    print("(table rows above: | model | model right | extractive fallbacks |)")


if __name__ == "__main__":
    asyncio.run(main())
