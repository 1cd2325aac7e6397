"""A /ws/talk client that plays a caller: streams PCM16 at real time, measures what it hears.

Used by bench/server_*.py and the load test; also runnable against any server:
    python -m serving.loadtest ws://127.0.0.1:8000/ws/talk AUDIO.wav --sessions 4

Voice-to-voice is measured on the client's clock, as a caller would hear it: from the end of
speech (the push-to-talk release, or the last sample of speech before the trailing silence in
hands-free mode) to the first byte of answer audio.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import soundfile
import soxr
import websockets

FRAME_S = 0.04
Mode = Literal["push_to_talk", "hands_free"]


def load_pcm16(path: Path, rate: int = 16_000) -> bytes:
    audio, sample_rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    audio = audio.mean(axis=1)
    if sample_rate != rate:
        audio = soxr.resample(audio, sample_rate, rate)
    return (np.clip(audio, -1, 1) * 32767).astype("<i2").tobytes()


@dataclass
class TurnResult:
    transcript: str = ""
    answer: str = ""
    refused: bool | None = None
    sources: list[str] = field(default_factory=list)
    voice_to_voice_ms: float | None = None  # client clock: end of speech -> first audio byte
    first_audio_after_text_ms: float | None = None  # typed turns: question sent -> audio
    audio_bytes: int = 0
    server_timings: dict[str, float] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    interrupted_ms: float | None = None  # barge-in: first speech frame sent -> `interrupted`
    server_cancel_ms: float | None = None
    close_code: int | None = None


class Caller:
    """One WebSocket session; frames are read by a background task into a queue."""

    def __init__(
        self,
        url: str,
        *,
        collection: str,
        language: str = "auto",
        mode: Mode = "push_to_talk",
        sample_rate: int = 16_000,
    ) -> None:
        self.url, self.collection, self.language = url, collection, language
        self.mode, self.sample_rate = mode, sample_rate
        self.frames: asyncio.Queue[tuple[float, Any]] = asyncio.Queue()
        self.errors: list[str] = []
        self.ready: dict[str, Any] = {}

    async def __aenter__(self) -> Caller:
        self.ws = await websockets.connect(self.url, max_size=2**24)
        self._reader = asyncio.create_task(self._read())
        await self.ws.send(
            json.dumps(
                {
                    "type": "start",
                    "protocol": 1,
                    "sample_rate": self.sample_rate,
                    "language": self.language,
                    "collection": self.collection,
                    "mode": self.mode,
                }
            )
        )
        self.ready = await self.next_json("ready")
        return self

    async def __aexit__(self, *exc: object) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            await self.ws.send(json.dumps({"type": "stop"}))
        await self.ws.close()
        self._reader.cancel()

    async def _read(self) -> None:
        try:
            async for message in self.ws:
                item = message if isinstance(message, bytes) else json.loads(message)
                if isinstance(item, dict) and item.get("type") == "error":
                    self.errors.append(item["code"])
                await self.frames.put((time.perf_counter(), item))
        except websockets.ConnectionClosed:
            pass
        await self.frames.put((time.perf_counter(), None))

    async def next_json(self, kind: str, timeout: float = 300) -> dict[str, Any]:
        while True:
            _, item = await asyncio.wait_for(self.frames.get(), timeout)
            if item is None:
                raise ConnectionError(f"closed while waiting for {kind}")
            if isinstance(item, dict) and item["type"] == kind:
                return item

    async def stream(self, pcm: bytes, *, silence_s: float = 0.0) -> float:
        """Send at real time in 40 ms frames; returns when the last speech byte was sent."""
        step = int(self.sample_rate * FRAME_S) * 2
        started = time.perf_counter()
        sent = 0
        for i in range(0, len(pcm), step):
            await self.ws.send(pcm[i : i + step])
            sent += 1
            await asyncio.sleep(max(0.0, started + sent * FRAME_S - time.perf_counter()))
        speech_end = time.perf_counter()
        silence = b"\x00\x00" * int(self.sample_rate * FRAME_S)
        for _ in range(int(silence_s / FRAME_S)):
            await self.ws.send(silence)
            sent += 1
            await asyncio.sleep(max(0.0, started + sent * FRAME_S - time.perf_counter()))
        return speech_end

    async def collect_turn(
        self, end_of_speech_at: float, result: TurnResult, timeout: float = 300
    ) -> TurnResult:
        deadline = time.perf_counter() + timeout
        while True:
            at, item = await asyncio.wait_for(self.frames.get(), deadline - time.perf_counter())
            if item is None:
                result.errors.append("closed")
                return result
            if isinstance(item, bytes):
                if result.audio_bytes == 0:
                    result.voice_to_voice_ms = (at - end_of_speech_at) * 1000
                result.audio_bytes += len(item)
                continue
            kind = item["type"]
            if kind == "transcript":
                result.transcript = item["text"]
                if not item["text"]:
                    return result  # nothing heard: no turn follows
            elif kind == "sources":
                result.sources = [s["doc_id"] for s in item["sources"]]
            elif kind == "error":
                result.errors.append(item["code"])
            elif kind == "turn_end":
                result.answer, result.refused = item["answer"], item["refused"]
                result.server_timings = item["timings"]
                return result

    async def spoken_turn(self, pcm: bytes) -> TurnResult:
        if self.mode == "push_to_talk":
            await self.stream(pcm)
            await self.ws.send(json.dumps({"type": "end_of_speech"}))
            end = time.perf_counter()
        else:
            end = await self.stream(pcm, silence_s=1.2)
        return await self.collect_turn(end, TurnResult())

    async def barge_in(self, question: str, pcm: bytes, guard_s: float = 0.6) -> TurnResult:
        """Ask by text; while the answer is being written or spoken, start speaking over it.

        Speech that starts within the server's echo guard (300 ms) after the answer's audio
        starts is not a barge-in by design, so when the audio has already started the caller
        waits until `guard_s` after it.
        """
        result = TurnResult()
        await self.ws.send(json.dumps({"type": "text", "text": question}))
        await self.next_json("sources")
        audio_at = await self._audio_start_within(0.3)
        if audio_at is not None:
            await asyncio.sleep(max(0.0, audio_at + guard_s - time.perf_counter()))
        first_frame = time.perf_counter()
        speaking = asyncio.create_task(self.stream(pcm, silence_s=1.2))
        interrupted = await self.next_json("interrupted")
        result.interrupted_ms = (time.perf_counter() - first_frame) * 1000
        result.server_cancel_ms = interrupted.get("cancel_ms")
        await speaking
        if self.mode == "push_to_talk":
            await self.ws.send(json.dumps({"type": "end_of_speech"}))
        return result

    async def _audio_start_within(self, seconds: float) -> float | None:
        deadline = time.perf_counter() + seconds
        while (left := deadline - time.perf_counter()) > 0:
            try:
                at, item = await asyncio.wait_for(self.frames.get(), left)
            except TimeoutError:
                return None
            if isinstance(item, dict) and item["type"] == "audio_start":
                return at
        return None


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def summary(values: list[float]) -> str:
    if not values:
        return "n=0"
    return (
        f"n={len(values)} p50={percentile(values, 50):.0f} ms "
        f"p95={percentile(values, 95):.0f} ms mean={statistics.fmean(values):.0f} ms"
    )


async def _main(args: argparse.Namespace) -> None:
    pcm = load_pcm16(Path(args.audio))

    async def one() -> TurnResult:
        async with Caller(args.url, collection=args.collection, mode=args.mode) as caller:
            return await caller.spoken_turn(pcm)

    results = await asyncio.gather(*(one() for _ in range(args.sessions)))
    for result in results:
        print(json.dumps(result.__dict__, ensure_ascii=False))
    print(summary([r.voice_to_voice_ms for r in results if r.voice_to_voice_ms is not None]))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("audio")
    parser.add_argument("--sessions", type=int, default=1)
    parser.add_argument("--collection", default="demo")
    parser.add_argument("--mode", choices=["push_to_talk", "hands_free"], default="push_to_talk")
    asyncio.run(_main(parser.parse_args()))
