"""Keeping callers' audio: only when configured (`server.store_audio`), one wav per utterance.

Privacy by default: with no directory nothing is held beyond the current utterance's frames
and nothing is written.
"""

from __future__ import annotations

import time
import uuid
import wave
from pathlib import Path


class UtteranceRecorder:
    def __init__(self, directory: Path | None, *, sample_rate: int, max_utterance_s: float) -> None:
        self.directory = directory
        self.sample_rate = sample_rate
        self.limit = int(max_utterance_s * sample_rate * 2)
        self._audio = bytearray()

    def keep(self, pcm: bytes) -> None:
        """Hold the current utterance's audio (bounded by the utterance limit)."""
        if self.directory is None:
            return
        self._audio += pcm
        if len(self._audio) > self.limit + len(pcm):
            del self._audio[: len(self._audio) - self.limit - len(pcm)]

    def finish(self, *, store: bool) -> Path | None:
        """The utterance ended: write it (when it made a turn) and start afresh."""
        pcm, self._audio = bytes(self._audio), bytearray()
        if self.directory is None or not store or not pcm:
            return None
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / f"{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}.wav"
        with wave.open(str(path), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(self.sample_rate)
            out.writeframes(pcm)
        return path
