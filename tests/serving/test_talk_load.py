"""A short, bounded load test over loopback against a real uvicorn: several callers at once,
each speaking a real clip (push-to-talk), must all get a transcript and spoken audio with no
error; afterwards no session is still counted and threads and memory are back to bounds.
(The figures — sessions held at p95 <= 3 s, memory per session — are bench/server_load.py's.)"""

from __future__ import annotations

import asyncio
import re
import threading
import time
from pathlib import Path

import httpx
import psutil
import pytest

from serving.loadtest import Caller, load_pcm16

pytestmark = pytest.mark.timeout(600)
CALLERS = 6


def active_sessions(url: str) -> float:
    metrics = httpx.get(url + "/metrics", timeout=10).text
    return float(re.search(r"^samyu_sessions_active (\S+)$", metrics, re.M).group(1))


async def one_caller(url: str, pcm: bytes):
    async with Caller(url, collection="speech", mode="push_to_talk") as caller:
        return await caller.spoken_turn(pcm)


def test_many_callers_at_once_no_errors_no_leaks(live_server, shared_audio: Path) -> None:
    # a sentence no document answers: ASR, retrieval and the spoken redirect, no LLM wait
    pcm = load_pcm16(shared_audio / "8k-en.wav")
    process = psutil.Process()

    async def wave():
        return await asyncio.gather(*(one_caller(live_server.ws_url, pcm) for _ in range(CALLERS)))

    def check(results) -> None:
        for result in results:
            assert result.errors == [], result.errors
            assert result.transcript, "no transcript"
            assert result.audio_bytes > 0 and result.voice_to_voice_ms is not None
            assert result.refused is True

    # the first wave warms the pools (the loop's worker threads, allocator arenas): the leak
    # check compares two later waves against the state after it
    check(asyncio.run(wave()))
    time.sleep(1.0)
    threads_before = threading.active_count()
    rss_before = process.memory_info().rss
    for _round in range(2):
        check(asyncio.run(wave()))

    deadline = time.monotonic() + 10
    while active_sessions(live_server.url) != 0:
        assert time.monotonic() < deadline, "sessions still counted after every caller left"
        time.sleep(0.1)
    # worker threads of the last turns finish: on a busy CPU that takes a while, a leak never
    deadline = time.monotonic() + 30
    while threading.active_count() > threads_before + 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert threading.active_count() <= threads_before + 2, threading.enumerate()
    grown_mib = (process.memory_info().rss - rss_before) / 2**20
    assert grown_mib < 150, f"memory grew {grown_mib:.0f} MiB over {2 * CALLERS} more sessions"
