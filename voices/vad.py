"""Silero VAD (v6) through onnxruntime, streaming over 512-sample windows, no torch.

The ONNX file is the one faster-whisper ships (faster_whisper/assets/silero_vad_v6.onnx). Its
graph takes a batch of windows of 512 samples at 16 kHz, each preceded by the last 64
samples of the previous window (context), plus the LSTM state (h, c); it returns one speech
probability per window. `SileroVad` keeps that context and state between calls, so audio can
arrive in frames of any size: samples that do not fill a window wait for the next call.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Protocol

import numpy as np

# no telemetry store or events (read when onnxruntime is imported; serving sets it earlier too)
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
import onnxruntime
from faster_whisper.utils import get_assets_path

WINDOW = 512  # samples at 16 kHz = 32 ms
_CONTEXT = 64
_STATE_SHAPE = (1, 1, 128)


def silero_model_path() -> Path:
    return Path(get_assets_path()) / "silero_vad_v6.onnx"


class VadModel(Protocol):
    """A VAD over a batch of windows (with context) and the LSTM state: SileroVadModel, or a
    test fake (tests/fakes.py)."""

    def run(
        self, windows: np.ndarray, h: np.ndarray, c: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]: ...


class SileroVadModel:
    """The shared ONNX session (thread-safe; load once per process)."""

    def __init__(self, path: Path | None = None) -> None:
        onnxruntime.disable_telemetry_events()
        opts = onnxruntime.SessionOptions()
        # One thread: a VAD window costs well under a millisecond, and Whisper needs the cores.
        opts.inter_op_num_threads = 1
        opts.intra_op_num_threads = 1
        opts.log_severity_level = 4
        self.session = onnxruntime.InferenceSession(
            str(path or silero_model_path()), providers=["CPUExecutionProvider"], sess_options=opts
        )

    def run(
        self, windows: np.ndarray, h: np.ndarray, c: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        probs, h, c = self.session.run(None, {"input": windows, "h": h, "c": c})
        return np.asarray(probs, dtype=np.float32).reshape(-1), h, c


_shared: SileroVadModel | None = None
_shared_lock = threading.Lock()


def shared_vad_model() -> SileroVadModel:
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = SileroVadModel()
        return _shared


class SileroVad:
    """Per-stream VAD state: feed 16 kHz float32 of any length, get one probability per window."""

    def __init__(self, model: VadModel | None = None) -> None:
        self.model: VadModel = model or shared_vad_model()
        self.reset()

    def reset(self) -> None:
        self._h = np.zeros(_STATE_SHAPE, dtype=np.float32)
        self._c = np.zeros(_STATE_SHAPE, dtype=np.float32)
        self._context = np.zeros(_CONTEXT, dtype=np.float32)
        self._carry = np.zeros(0, dtype=np.float32)

    def process(self, audio: np.ndarray) -> np.ndarray:
        """Speech probabilities of every complete 512-sample window now available."""
        audio = np.concatenate([self._carry, np.asarray(audio, dtype=np.float32)])
        n = audio.size // WINDOW
        self._carry = audio[n * WINDOW :].copy()
        if n == 0:
            return np.zeros(0, dtype=np.float32)
        windows = audio[: n * WINDOW].reshape(n, WINDOW)
        contexts = np.vstack([self._context, windows[:-1, -_CONTEXT:]])
        batch = np.ascontiguousarray(np.concatenate([contexts, windows], axis=1))
        probs, self._h, self._c = self.model.run(batch, self._h, self._c)
        self._context = windows[-1, -_CONTEXT:].copy()
        return probs


def speech_ratio(audio: np.ndarray, threshold: float, model: VadModel | None = None) -> float:
    """Fraction of windows over the speech threshold in a whole (short) signal."""
    probs = SileroVad(model).process(audio)
    return float(np.mean(probs >= threshold)) if probs.size else 0.0
