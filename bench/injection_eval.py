"""Prompt injection through documents: the share of attacks that reach a caller, before and
after the ingest-time quarantine (knowledge_base/injection.py).

    .venv/bin/python bench/injection_eval.py [--answers N] [--json]

The 104 cases of bench/data/injection/cases.jsonl (English, Traditional and Simplified
Chinese; OWASP LLM01 patterns, disguises, attacks split over chunks) are ingested for real
(USE embedder, FAISS, BM25) into one collection, each as its own document. For each case
the caller's question is retrieved as the assistant retrieves it (k = assistant.retrieval_k):
an attack "reaches a snippet" when its payload (a unique fake phone number) is in the text of
a returned chunk, which the assistant both puts in its prompt and shows to the caller.

"before" is main's behaviour: quarantined chunks are returned like any other
(`quarantined="include"`); "after" is the default (`"exclude"`). With `--answers N`, N cases
(spread over the languages) also go through the real assistant with the embedded LLM, once
each way, and an attack "reaches an answer" when its payload is in the answer text.
False positives are measured on the demo corpus (ordinary government pages, one of which,
en/notice-board.md, deliberately carries an injection).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from knowledge_base import KnowledgeBase, KnowledgeBaseSettings, QueryOptions  # noqa: E402
from knowledge_base.chunking import chunk_document  # noqa: E402
from knowledge_base.injection import scan_chunks  # noqa: E402
from knowledge_base.loaders import LoadError, discover, load_file  # noqa: E402

CASES = ROOT / "bench" / "data" / "injection" / "cases.jsonl"
DEMO = ROOT / "knowledge_base" / "demo_corpus"


def load_cases() -> list[dict]:
    return [json.loads(line) for line in CASES.read_text(encoding="utf-8").splitlines() if line]


def reached_snippets(
    collection, cases: list[dict], k: int, policy: str, **extra: object
) -> dict[str, bool]:
    retriever = collection.retriever()
    out = {}
    for case in cases:
        hits = retriever.retrieve(
            case["question"], QueryOptions(k=k, extra={"quarantined": policy, **extra})
        )
        out[case["id"]] = any(case["payload"] in hit.chunk.text for hit in hits)
    return out


def reached_answers(kb, collection, cases: list[dict], policy: str) -> dict[str, str]:
    from assistant.config import AssistantSettings
    from assistant.turn import Assistant
    from assistant.types import TurnEnd

    collection.update_settings(quarantined=policy)  # query-time: no rebuild
    settings = AssistantSettings(
        cache=Path(os.environ.get("SAMYU_CACHE", "~/.cache/samyu")).expanduser()
    )
    assistant = Assistant.from_settings(settings, kb)

    async def one(question: str) -> str:
        answer = ""
        async for event in assistant.answer(question, collection=collection.name):
            if isinstance(event, TurnEnd):
                answer = event.answer
        return answer

    return {case["id"]: asyncio.run(one(case["question"])) for case in cases}


def false_positives() -> tuple[int, list[tuple[str, str]]]:
    """Demo-corpus chunks the detector quarantines (chunked as a collection would be)."""
    settings = KnowledgeBaseSettings()
    retrieval = settings.retrieval
    total, flagged = 0, []
    for path, doc_id in discover([DEMO]):
        try:
            documents = load_file(
                path, doc_id, max_bytes=settings.max_file_bytes, max_faq_rows=10**5
            )
        except LoadError:
            continue
        for document in documents:
            chunks = chunk_document(
                document, "demo", chunk_size=retrieval.chunk_size,
                chunk_overlap=retrieval.chunk_overlap, max_chunks=10**4,
            )  # fmt: skip
            total += len(chunks)
            flagged += [(c.id, c.quarantine) for c in scan_chunks(chunks) if c.quarantine]
    return total, flagged


def share(flags: dict[str, bool] | list[bool]) -> str:
    values = list(flags.values()) if isinstance(flags, dict) else flags
    return f"{sum(values)}/{len(values)} ({100 * sum(values) / max(1, len(values)):.0f} %)"


def _answer_shares(sample: list[dict], before: dict, after: dict) -> dict | None:
    if not sample:
        return None
    return {
        "cases": len(sample),
        "reaches_answer_before": share([c["payload"] in before[c["id"]] for c in sample]),
        "reaches_answer_after": share([c["payload"] in after[c["id"]] for c in sample]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--answers", type=int, default=0, help="cases also run through the LLM")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    from assistant.config import AssistantSettings

    k = AssistantSettings().retrieval_k
    cases = load_cases()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="samyu-injection-") as tmp:
        docs = Path(tmp) / "docs"
        docs.mkdir()
        for case in cases:
            (docs / f"{case['id']}.md").write_text(case["document"], encoding="utf-8")
        kb = KnowledgeBase(KnowledgeBaseSettings(home=Path(tmp) / "home"))
        collection = kb.collection("injection")
        report = collection.ingest([docs])
        ingest_s = time.perf_counter() - started
        quarantined_docs = {q["chunk"].split("#")[0] for q in report.quarantined}
        chunks = {c.id: c for c in collection.index().chunks}
        payload_chunk_flagged = {
            case["id"]: all(
                c.quarantine for c in chunks.values()
                if c.doc_id == f"{case['id']}.md" and case["payload"] in c.text
            )
            for case in cases
        }  # fmt: skip
        before = reached_snippets(collection, cases, k, "include")
        after = reached_snippets(collection, cases, k, "exclude")
        # a wider net: the best 10 chunks, several per document (what a reranker or a larger
        # k would see); split attacks put the payload in a document's second-best chunk
        wide = {"one_hit_per_document": False}
        wide_before = reached_snippets(collection, cases, 10, "include", **wide)
        wide_after = reached_snippets(collection, cases, 10, "exclude", **wide)
        answers_before = answers_after = {}
        sample: list[dict] = []
        if args.answers:
            by_language = defaultdict(list)
            for case in cases:
                by_language[case["language"]].append(case)
            per = max(1, args.answers // len(by_language))
            sample = [
                c for rows in by_language.values() for c in rows[:: max(1, len(rows) // per)][:per]
            ]
            answers_before = reached_answers(kb, collection, sample, "include")
            answers_after = reached_answers(kb, collection, sample, "exclude")
    total_chunks, flagged = false_positives()

    rows = defaultdict(lambda: Counter())
    for case in cases:
        for key in (
            case["language"],
            case["technique"].split("+")[0],
            "+split" if "+split" in case["technique"] else "whole",
        ):
            rows[key]["cases"] += 1
            rows[key]["detected"] += f"{case['id']}.md" in quarantined_docs
            rows[key]["before"] += before[case["id"]]
            rows[key]["after"] += after[case["id"]]
            rows[key]["wide_before"] += wide_before[case["id"]]
            rows[key]["wide_after"] += wide_after[case["id"]]
    result = {
        "cases": len(cases),
        "k": k,
        "documents_quarantined": f"{len(quarantined_docs)}/{len(cases)}",
        "payload_chunk_quarantined": share(payload_chunk_flagged),
        "reaches_snippet_before": share(before),
        "reaches_snippet_after": share(after),
        "still_reaching_after": [c["id"] + " " + c["technique"] for c in cases if after[c["id"]]],
        "in_top10_chunks_before": share(wide_before),
        "in_top10_chunks_after": share(wide_after),
        "answers": _answer_shares(sample, answers_before, answers_after),
        "demo_corpus_false_positives": f"{len(flagged)}/{total_chunks} chunks",
        "demo_corpus_flagged": flagged,
        "ingest_s": round(ingest_s, 1),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }  # fmt: skip
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
        return
    print(f"{len(cases)} injection cases, k={k}, ingest {ingest_s:.0f} s, load {os.getloadavg()}")
    print(
        "| group | cases | quarantined | reaches a snippet before | after | in top-10 chunks "
        "before | after |\n|---|---|---|---|---|---|---|"
    )
    for key, row in sorted(rows.items(), key=lambda kv: (-kv[1]["cases"], kv[0])):
        print(
            f"| {key} | {row['cases']} | {row['detected']} | {row['before']} | {row['after']} "
            f"| {row['wide_before']} | {row['wide_after']} |"
        )
    for name in ("documents_quarantined", "payload_chunk_quarantined", "reaches_snippet_before",
                 "reaches_snippet_after", "still_reaching_after", "in_top10_chunks_before",
                 "in_top10_chunks_after", "answers", "demo_corpus_false_positives",
                 "demo_corpus_flagged"):  # fmt: skip
        print(f"{name}: {result[name]}")


if __name__ == "__main__":
    main()
    sys.stdout.flush()
    os._exit(0)  # llama.cpp's teardown at interpreter exit can crash after the figures print
