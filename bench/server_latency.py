"""Voice-to-voice latency over the real speech fixtures, push-to-talk and VAD end points, and
barge-in cancel latency, against a real `samyu serve` (embedded models) on loopback.

    .venv/bin/python bench/server_latency.py [--repeat 1] [--barge-ins 3] [--code DIR ...]
        [--clips 0-en.wav 1-zh.wav]

`--code DIR ...` runs the server from each checkout in turn (e.g. `--code ../main .` for
before/after in one run, same machine, same load); the client is this checkout's.

Voice-to-voice is measured on the caller's clock: from the end of speech (push-to-talk
release; in hands-free mode the last sample of speech, so the VAD's end-of-utterance silence
is included) to the first byte of answer audio. Each turn runs in a fresh session.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
from pathlib import Path

import server_common
from server_common import AUDIO, CLIPS, ROOT, machine, running_server

from serving.loadtest import Caller, TurnResult, load_pcm16, summary

BARGE_IN_QUESTIONS = [
    "When are the counters open?",
    "Who maintains the street lamps?",
    "What are the three problems of the global financial turbulence?",
]


async def spoken(url: str, clip: str, mode: str) -> TurnResult:
    async with Caller(url, collection="speech", mode=mode) as caller:  # type: ignore[arg-type]
        return await caller.spoken_turn(load_pcm16(AUDIO / clip))


async def barge_in(url: str, question: str) -> TurnResult:
    async with Caller(url, collection="speech", language="en") as caller:
        return await caller.barge_in(question, load_pcm16(AUDIO / "0-en.wav"))


async def main(args: argparse.Namespace) -> None:
    print(f"# {machine()}")
    for code in args.code:
        # the server runs from `code`: its working directory and import path
        server_common.ROOT = code.resolve()
        os.environ["PYTHONPATH"] = str(code.resolve())
        print(f"# server code: {code.resolve()}")
        await measure(args, label=code.resolve().name)
        print(f"# load average after: {os.getloadavg()}")


async def measure(args: argparse.Namespace, label: str) -> None:
    with running_server() as server:
        print(f"# server ready, RSS {server.rss_mb():.0f} MiB")
        if args.keep_log:  # the server's log goes with its temporary home: copy it at the end
            atexit_copy = (server.log, args.keep_log.with_suffix(f".{label}.log"))
        for mode in ("push_to_talk", "hands_free") if args.turns else ():
            values: list[float] = []
            answered: list[float] = []
            for _ in range(args.repeat):
                for clip in args.clips:
                    r = await spoken(server.ws_url, clip, mode)
                    v2v = r.voice_to_voice_ms
                    print(
                        json.dumps(
                            {
                                "mode": mode,
                                "clip": clip,
                                "transcript": r.transcript[:60],
                                "refused": r.refused,
                                "sources": r.sources[:2],
                                "voice_to_voice_ms": round(v2v) if v2v else None,
                                "server": r.server_timings,
                                "errors": r.errors,
                            },
                            ensure_ascii=False,
                        )
                    )
                    if v2v is not None:
                        values.append(v2v)
                        if r.refused is False:
                            answered.append(v2v)
            print(f"[{label}] {mode}: voice-to-voice all turns {summary(values)}")
            print(f"[{label}] {mode}: voice-to-voice answered by the LLM {summary(answered)}")
        client_ms, server_ms = [], []
        for i in range(args.barge_ins):
            r = await barge_in(server.ws_url, BARGE_IN_QUESTIONS[i % len(BARGE_IN_QUESTIONS)])
            print(
                json.dumps(
                    {
                        "barge_in_client_ms": round(r.interrupted_ms or -1),
                        "server_cancel_ms": r.server_cancel_ms,
                    }
                )
            )
            if r.interrupted_ms is not None:
                client_ms.append(r.interrupted_ms)
            if r.server_cancel_ms is not None:
                server_ms.append(r.server_cancel_ms)
        print(f"[{label}] barge-in, first speech frame sent -> `interrupted`: {summary(client_ms)}")
        print(f"[{label}] barge-in, speech onset -> cancelled (server): {summary(server_ms)}")
        if args.keep_log:
            shutil.copyfile(*atexit_copy)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--barge-ins", type=int, default=3)
    parser.add_argument("--code", type=Path, nargs="+", default=[ROOT])
    parser.add_argument(
        "--clips", nargs="+", default=CLIPS, help="fixture clips to ask (default: all five)"
    )
    parser.add_argument("--keep-log", type=Path, default=None, help="copy the server log here")
    parser.add_argument(
        "--no-turns", dest="turns", action="store_false", help="barge-ins only (quicker)"
    )
    asyncio.run(main(parser.parse_args()))
