"""Helpers of the /ws/talk tests: read frames until a condition, stream a wav as PCM16."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import soundfile

Frame = dict[str, Any]


def pcm16(path: Path, *, rate: int | None = None, silence_s: float = 0.0) -> tuple[bytes, int]:
    """A wav as PCM16 mono bytes (at its own rate, or resampled to `rate`), plus silence."""
    audio, sample_rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    audio = audio.mean(axis=1)
    if rate is not None and rate != sample_rate:
        import soxr

        audio, sample_rate = soxr.resample(audio, sample_rate, rate), rate
    audio = np.concatenate([audio, np.zeros(int(silence_s * sample_rate), np.float32)])
    return (np.clip(audio, -1, 1) * 32767).astype("<i2").tobytes(), sample_rate


def chunks(data: bytes, size: int = 3200) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


class Recorder:
    """Reads a TestClient websocket, keeping every frame in order (binary as byte counts)."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.frames: list[Frame] = []
        self.close_code: int | None = None

    def next(self) -> Frame:
        message = self.ws.receive()
        if message["type"] == "websocket.close":
            self.close_code = message.get("code", 1000)
            frame: Frame = {"type": "__closed__", "code": self.close_code}
        elif message.get("bytes") is not None:
            frame = {"type": "__audio__", "bytes": len(message["bytes"])}
        else:
            frame = json.loads(message["text"])
        self.frames.append(frame)
        return frame

    def until(self, done: Callable[[Frame], bool], limit: int = 10_000) -> Frame:
        for _ in range(limit):
            frame = self.next()
            if done(frame):
                return frame
            if frame["type"] == "__closed__":
                raise AssertionError(f"closed ({self.close_code}) first; frames: {self.types()}")
        raise AssertionError(f"no matching frame in {limit}: {self.types()[-20:]}")

    def until_type(self, kind: str) -> Frame:
        return self.until(lambda f: f["type"] == kind)

    def until_turn_end(self, turn_id: int) -> Frame:
        return self.until(lambda f: f["type"] == "turn_end" and f["turn_id"] == turn_id)

    def ask(self, text: str, turn_id: int) -> Frame:
        """Type a question and read up to that turn's `turn_end`."""
        self.ws.send_json({"type": "text", "text": text})
        return self.until_turn_end(turn_id)

    def until_closed(self) -> int:
        self.until(lambda f: f["type"] == "__closed__")
        assert self.close_code is not None
        return self.close_code

    def of_type(self, kind: str) -> list[Frame]:
        return [f for f in self.frames if f["type"] == kind]

    def types(self) -> list[str]:
        return [f["type"] for f in self.frames]
