"""Semantic end of turn: Pipecat's Smart Turn v3 (ONNX, ~8.7 MB, CPU, multilingual).

Silence alone is a poor end point: 700 ms cuts a caller off when they pause to think and
makes them wait after a short answer. Smart Turn listens to the last 8 s of the utterance
(intonation and the words' shape, not a transcript) and says how likely the speaker has
finished. The streaming recogniser asks it after a short pause (`check_silence_ms`), and again
every `recheck_ms` of silence; an utterance ends when the probability reaches the threshold
of the caller's language, or after `max_silence_ms` of silence whatever it says.

The model file is the one the `pipecat-ai` wheel carries as package data
(pipecat/audio/turn/smart_turn/data/smart-turn-v3.2-cpu.onnx), found without importing
pipecat (whose dependency tree is not installed: `pip install --no-deps pipecat-ai==1.14.0`),
or a local file named in configuration. Input: Whisper-style log-mel features (80 x 800 for
8 s at 16 kHz), computed here with numpy as in pipecat's `_whisper_features.py` (itself the
math of transformers' WhisperFeatureExtractor); output: P(turn complete).
"""

from __future__ import annotations

import hashlib
import importlib.util
import threading
from functools import cache
from pathlib import Path

import numpy as np
import onnxruntime
from numpy.lib.stride_tricks import sliding_window_view

from voices.types import PIPELINE_SAMPLE_RATE

MODEL_FILE = "smart-turn-v3.2-cpu.onnx"
MODEL_SHA256 = "2bb026316b14a660486a75b1733cd3fbab8c2fd0314dc9af7be49f8cca967e4f"
WINDOW_S = 8
_N_FFT = 400
_HOP = 160
_N_MELS = 80


class TurnModelMissingError(FileNotFoundError):
    """The Smart Turn model file is not installed (pipecat-ai's package data)."""


def packaged_model_path() -> Path:
    """The ONNX file inside the installed pipecat-ai wheel (pipecat itself is not imported)."""
    spec = importlib.util.find_spec("pipecat")
    locations = list(spec.submodule_search_locations or []) if spec else []
    for root in locations:
        path = Path(root) / "audio" / "turn" / "smart_turn" / "data" / MODEL_FILE
        if path.is_file():
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            if digest != MODEL_SHA256:
                raise TurnModelMissingError(f"{path} is damaged (sha256 {digest[:12]}...)")
            return path
    raise TurnModelMissingError(
        f"{MODEL_FILE} not found: install its package with "
        "`pip install --no-deps pipecat-ai==1.14.0` (scripts/setup.sh does)"
    )


# ---- Whisper log-mel features (numpy) ----------------------------------------------------


def _hz_to_mel(freq: np.ndarray) -> np.ndarray:
    """Slaney mel scale: linear below 1 kHz, logarithmic above."""
    freq = np.atleast_1d(np.asarray(freq, dtype=np.float64))
    mels = 3.0 * freq / 200.0
    high = freq >= 1000.0
    mels[high] = 15.0 + np.log(freq[high] / 1000.0) * (27.0 / np.log(6.4))
    return mels


def _mel_to_hz(mels: np.ndarray) -> np.ndarray:
    mels = np.atleast_1d(np.asarray(mels, dtype=np.float64))
    freq = 200.0 * mels / 3.0
    high = mels >= 15.0
    freq[high] = 1000.0 * np.exp((np.log(6.4) / 27.0) * (mels[high] - 15.0))
    return freq


@cache
def _mel_filters() -> np.ndarray:
    """Slaney-normalised triangular filters, (201 frequency bins, 80 mels)."""
    edges = _mel_to_hz(np.linspace(_hz_to_mel(0.0)[0], _hz_to_mel(8000.0)[0], _N_MELS + 2))
    bins = np.linspace(0, PIPELINE_SAMPLE_RATE // 2, _N_FFT // 2 + 1)
    slopes = edges[None, :] - bins[:, None]
    widths = np.diff(edges)
    down = -slopes[:, :-2] / widths[:-1]
    up = slopes[:, 2:] / widths[1:]
    filters = np.maximum(0.0, np.minimum(down, up))
    return filters * (2.0 / (edges[2:] - edges[:-2]))[None, :]


def log_mel_features(audio: np.ndarray) -> np.ndarray:
    """(80, 800) float32 Whisper log-mel of exactly 8 s of 16 kHz audio (padded/cut at the end),
    with the waveform normalised to zero mean and unit variance first."""
    samples = WINDOW_S * PIPELINE_SAMPLE_RATE
    x = np.asarray(audio, dtype=np.float32)[:samples]
    x = np.pad(x, (0, samples - x.size))
    x = (x - x.mean()) / np.sqrt(x.var() + 1e-7)
    padded = np.pad(x.astype(np.float64), (_N_FFT // 2, _N_FFT // 2), mode="reflect")
    frames = sliding_window_view(padded, _N_FFT)[::_HOP]
    hann = np.hanning(_N_FFT + 1)[:-1]  # periodic, as torch.hann_window
    power = np.abs(np.fft.rfft(frames * hann, axis=-1)) ** 2  # (frames, 201)
    mel = np.maximum(1e-10, power @ _mel_filters()).T  # (80, frames)
    log_spec = np.log10(mel)[:, :-1]
    log_spec = np.maximum(log_spec, log_spec.max() - 8.0)
    return ((log_spec + 4.0) / 4.0).astype(np.float32)


def last_window(audio: np.ndarray) -> np.ndarray:
    """The last 8 s of `audio`, zero-padded at the start when shorter (as Smart Turn expects)."""
    samples = WINDOW_S * PIPELINE_SAMPLE_RATE
    audio = np.asarray(audio, dtype=np.float32)
    if audio.size >= samples:
        return audio[-samples:]
    return np.pad(audio, (samples - audio.size, 0))


# ---- the model ---------------------------------------------------------------------------


class SmartTurnModel:
    """The shared ONNX session (thread-safe; load once per process with `shared_turn_model`)."""

    def __init__(self, path: Path | None = None, *, threads: int = 1) -> None:
        opts = onnxruntime.SessionOptions()
        opts.inter_op_num_threads = 1
        opts.intra_op_num_threads = threads
        opts.log_severity_level = 4
        self.path = path or packaged_model_path()
        self.session = onnxruntime.InferenceSession(
            str(self.path), providers=["CPUExecutionProvider"], sess_options=opts
        )

    def end_probability(self, audio: np.ndarray) -> float:
        """P(the speaker has finished) for 16 kHz float32 audio ending now."""
        features = log_mel_features(last_window(audio))[None, :, :]
        (output,) = self.session.run(None, {"input_features": features})[:1]
        return float(np.asarray(output).reshape(-1)[0])


_shared: dict[str, SmartTurnModel] = {}
_shared_lock = threading.Lock()


def shared_turn_model(path: Path | None = None, *, threads: int = 1) -> SmartTurnModel:
    key = str(path or "")
    with _shared_lock:
        if key not in _shared:
            _shared[key] = SmartTurnModel(path, threads=threads)
        return _shared[key]
