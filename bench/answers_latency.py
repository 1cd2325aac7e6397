"""Typed question -> first answer text and first answer audio, per language, through a real
`samyu serve` (embedded models) over /ws/talk on loopback; then N callers typing at once.

    flock /work/notes/cpu.lock .venv/bin/python bench/answers_latency.py [--per-language 4]
        [--sessions 4] [--rounds 2] [--env ASSISTANT__LLAMA_CPP__N_CONTEXTS=1 ...] [--code DIR]

Sequential part: each answerable demo question (bench/data/qa/demo.jsonl, file order) is
typed in a fresh session with the language set; first text = question sent -> first `answer`
frame, first audio = question sent -> first audio byte (client clock). Concurrent part:
`--sessions` callers start together, each types `--rounds` questions one after another (a
mix of languages); a turn whose outcome is `timeout` (first-token limit) or `error` counts
as failed. `--env KEY=VALUE` passes `SAMYU_KEY=VALUE` to the server (e.g. a model or pool
setting), so options are compared on the same code and machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from collections import Counter
from pathlib import Path

import server_common
from server_common import ROOT, machine, running_server

from serving.loadtest import Caller, percentile

QA = ROOT / "bench" / "data" / "qa" / "demo.jsonl"
LANGUAGES = ("en", "yue", "cmn")


def questions(per_language: int) -> dict[str, list[str]]:
    rows = [json.loads(line) for line in QA.read_text(encoding="utf-8").splitlines() if line]
    picked: dict[str, list[str]] = {lang: [] for lang in LANGUAGES}
    for row in rows:
        wanted = picked.get(row["language"])
        if row.get("answerable", True) and wanted is not None and len(wanted) < per_language:
            wanted.append(row["question"])
    return picked


async def typed_turn(caller: Caller, question: str, timeout: float = 120) -> dict:
    sent = time.perf_counter()
    await caller.ws.send(json.dumps({"type": "text", "text": question}))
    out: dict = {"question": question[:40], "first_text_ms": None, "first_audio_ms": None}
    deadline = sent + timeout
    while True:
        try:
            at, item = await asyncio.wait_for(caller.frames.get(), deadline - time.perf_counter())
        except TimeoutError:
            out["outcome"] = "client_timeout"
            return out
        ms = round((at - sent) * 1000)
        if item is None:
            out["outcome"] = "closed"
            return out
        if isinstance(item, bytes):  # any audio, the holding phrase's included
            out["first_audio_ms"] = out["first_audio_ms"] or ms
        elif item["type"] == "answer":
            out["first_text_ms"] = out["first_text_ms"] or ms
        elif item["type"] == "turn_end":  # sent after the answer's audio
            timings = item["timings"]
            # the answer's own first audio (not the holding phrase), on the server's clock
            out["answer_audio_ms"] = timings.get("first_audio")
            out.update(outcome=item["outcome"], answer=item["answer"][:70], timings=timings)
            return out


def after_first_token(results: list[dict]) -> str:
    """Server-side medians that the load moves less than the totals: the first token, and the
    first text shown / the first answer audio after it (turns the model answered)."""
    timed = [r["timings"] for r in results if r.get("timings", {}).get("first_token")]
    if not timed:
        return "server: no model turns"
    token = [t["first_token"] for t in timed]
    text = [t.get("first_text", t.get("first_sentence", 0)) - t["first_token"] for t in timed]
    audio = [t["first_audio"] - t["first_token"] for t in timed if t.get("first_audio")]
    return (
        f"server: first token p50 {percentile(token, 50):.0f} ms, then first text "
        f"+{percentile(text, 50):.0f} ms, answer audio +{percentile(audio, 50):.0f} ms"
    )


def stats(values: list[float | None]) -> str:
    got = [v for v in values if v is not None]
    if not got:
        return "n=0"
    return f"n={len(got)} p50={percentile(got, 50):.0f} p95={percentile(got, 95):.0f} ms"


def load() -> str:
    return "load " + " ".join(f"{x:.2f}" for x in os.getloadavg())


async def sequential(url: str, asked: dict[str, list[str]]) -> None:
    for lang, items in asked.items():
        results = []
        for question in items:
            async with Caller(url, collection="demo", language=lang) as caller:
                results.append(await typed_turn(caller, question))
            print(json.dumps({"language": lang, **results[-1]}, ensure_ascii=False), flush=True)
        outcomes = Counter(r.get("outcome") for r in results)
        print(
            f"== {lang}: first text {stats([r['first_text_ms'] for r in results])}; answer audio "
            f"{stats([r['answer_audio_ms'] for r in results])}; any audio "
            f"{stats([r['first_audio_ms'] for r in results])}; {dict(outcomes)}; "
            f"{after_first_token(results)}; {load()}",
            flush=True,
        )


async def concurrent(url: str, asked: dict[str, list[str]], sessions: int, rounds: int) -> None:
    mixed = [q for group in zip(*asked.values(), strict=False) for q in group]
    lang_of = {q: lang for lang, items in asked.items() for q in items}

    async def caller(i: int) -> list[dict]:
        done = []
        for r in range(rounds):
            question = mixed[(i + r * sessions) % len(mixed)]
            async with Caller(url, collection="demo", language=lang_of[question]) as c:
                done.append(await typed_turn(c, question))
        return done

    started = time.perf_counter()
    batches = await asyncio.gather(*(caller(i) for i in range(sessions)))
    results = [r for batch in batches for r in batch]
    for r in results:
        print(json.dumps(r, ensure_ascii=False))
    outcomes = Counter(r.get("outcome") for r in results)
    failed = sum(outcomes[k] for k in ("timeout", "error", "closed", None))
    print(
        f"== {sessions} sessions x {rounds} turns in {time.perf_counter() - started:.0f} s: "
        f"first text {stats([r['first_text_ms'] for r in results])}; answer audio "
        f"{stats([r['answer_audio_ms'] for r in results])}; outcomes {dict(outcomes)}; "
        f"failed (timeout/error) {failed}/{len(results)}; {load()}",
        flush=True,
    )


async def main(args: argparse.Namespace) -> None:
    print(f"# {machine()}; {load()}")
    env = dict(item.split("=", 1) for item in args.env)
    for key, value in env.items():
        os.environ[f"SAMYU_{key.upper()}"] = value
    if args.code:  # the server runs from another checkout (e.g. the code before a change)
        server_common.ROOT = args.code.resolve()
        os.environ["PYTHONPATH"] = str(args.code.resolve())
    print(f"# server settings: {env or 'defaults'}; code {server_common.ROOT}")
    asked = questions(args.per_language)
    with running_server() as server:
        print(f"# server ready, RSS {server.rss_mb():.0f} MiB; {load()}", flush=True)
        async with Caller(server.ws_url, collection="demo", language="en") as warm:
            await typed_turn(warm, "How much is a passport?")  # first use loads lazily
        if not args.no_sequential:
            await sequential(server.ws_url, asked)
        if args.sessions:
            await concurrent(server.ws_url, asked, args.sessions, args.rounds)
        print(f"# server RSS {server.rss_mb():.0f} MiB at the end; {load()}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-language", type=int, default=4)
    parser.add_argument("--sessions", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--no-sequential", action="store_true")
    parser.add_argument("--env", nargs="*", default=[], help="KEY=VALUE server settings")
    parser.add_argument("--code", type=Path, default=None, help="run the server from DIR")
    asyncio.run(main(parser.parse_args()))
