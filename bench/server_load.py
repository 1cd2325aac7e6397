"""Concurrent sessions against a real `samyu serve` (embedded models) on loopback: how many
callers it holds before the voice-to-voice p95 passes 3 s, memory per session, and a leak
check (sessions, errors and memory after the load).

    .venv/bin/python bench/server_load.py [--levels 1,2,4,8] [--idle-sessions 16]

Each level starts N callers at once; each streams a real clip at real time (push-to-talk) and
waits for its answer. Two workloads: `full` (questions the `speech` collection answers: the
LLM writes each answer; llama.cpp runs one generation at a time, so callers queue for it) and
`voice` (a clip nothing answers: ASR, retrieval, the evidence gate's spoken redirect and TTS,
no LLM) to show the voice path's own capacity. Every level runs (the curve is printed); a
level counts as held when its p95 is <= 3 s with no error and every level below it held.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import time

from server_common import AUDIO, machine, running_server

from serving.loadtest import Caller, load_pcm16, percentile, summary

WORKLOADS = {"full": ["0-en.wav", "2-zh-en.wav", "1-zh.wav"], "voice": ["8k-en.wav"]}
P95_LIMIT_MS = 3000.0


async def level(url: str, clips: list[str], n: int) -> tuple[list[float], list[str]]:
    async def one(i: int):
        async with Caller(url, collection="speech") as caller:
            return await caller.spoken_turn(load_pcm16(AUDIO / clips[i % len(clips)]))

    results = await asyncio.gather(*(one(i) for i in range(n)), return_exceptions=True)
    values, errors = [], []
    for r in results:
        if isinstance(r, BaseException):
            errors.append(type(r).__name__)
            continue
        errors.extend(r.errors)
        if r.voice_to_voice_ms is not None:
            values.append(r.voice_to_voice_ms)
        else:
            errors.append("no_audio")
    return values, errors


async def idle_sessions(url: str, n: int, seconds: float) -> None:
    async def one() -> None:
        async with Caller(url, collection="speech") as caller:
            await caller.stream(b"\x00\x00" * int(16_000 * seconds))

    await asyncio.gather(*(one() for _ in range(n)))


def _previous(levels: list[int], n: int) -> int:
    """The level before n (0 for the first): a level counts only if all below it held."""
    i = levels.index(n)
    return levels[i - 1] if i else 0


def gauge(metrics: str, name: str) -> float:
    found = re.search(rf"^{name} ([0-9.e+-]+)$", metrics, flags=re.M)
    return float(found.group(1)) if found else float("nan")


async def main(args: argparse.Namespace) -> None:
    print(f"# {machine()}")
    levels = [int(x) for x in args.levels.split(",")]
    with running_server() as server:
        await level(server.ws_url, WORKLOADS["voice"], 1)  # warm-up
        rss_warm = server.rss_mb()
        print(f"# server warm, RSS {rss_warm:.0f} MiB")
        for workload, clips in WORKLOADS.items():
            held = 0
            for n in levels if workload == "voice" else levels[: args.full_levels]:
                started = time.perf_counter()
                values, errors = await level(server.ws_url, clips, n)
                p95 = percentile(values, 95)
                print(
                    json.dumps(
                        {
                            "workload": workload,
                            "sessions": n,
                            "p95_ms": round(p95),
                            "errors": errors,
                            "wall_s": round(time.perf_counter() - started, 1),
                            "rss_mib": round(server.rss_mb()),
                        }
                    )
                )
                print(f"  {workload} x{n}: voice-to-voice {summary(values)}")
                if p95 <= P95_LIMIT_MS and not errors and held == _previous(levels, n):
                    held = n
            print(f"{workload}: holds {held} concurrent sessions with p95 <= 3 s")
        before = server.rss_mb()
        holder = asyncio.create_task(idle_sessions(server.ws_url, args.idle_sessions, 6.0))
        await asyncio.sleep(4.0)
        during = server.rss_mb()
        active = gauge(server.metrics(), "samyu_sessions_active")
        await holder
        await asyncio.sleep(2.0)
        after = server.rss_mb()
        per = (during - before) / args.idle_sessions
        print(
            f"memory: {args.idle_sessions} open sessions streaming audio: RSS {before:.0f} -> "
            f"{during:.0f} MiB ({per:.1f} MiB per session); after they closed {after:.0f} MiB"
        )
        metrics = server.metrics()
        print(
            f"sessions counted while open: {active:.0f}; after: "
            f"{gauge(metrics, 'samyu_sessions_active'):.0f}"
        )
        errors = re.findall(r'^samyu_errors_total\{code="([^"]+)"\} ([0-9.]+)$', metrics, re.M)
        print(f"error frames by code over the whole run: {dict(errors) or 'none'}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--levels", default="1,2,4,8")
    parser.add_argument("--idle-sessions", type=int, default=16)
    parser.add_argument(
        "--full-levels", type=int, default=3, help="how many levels the LLM workload runs"
    )
    asyncio.run(main(parser.parse_args()))
