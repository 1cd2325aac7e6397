"""The embedded speaker encoder: Resemblyzer's GE2E network with the weights its wheel ships.

`resemblyzer==0.1.4` carries `resemblyzer/pretrained.pt` (17 MB, a 3-layer LSTM over 40-band
mel power spectra -> 256-d L2-normalised voice embedding, trained with the GE2E loss). Its own
module imports librosa and webrtcvad at import time for preprocessing we do not need, so the
network is rebuilt here (the same shapes, loaded strictly) and the mel front end is computed
with torch: 25 ms Hann windows, 10 ms hop, Slaney mel filters, power (not log) spectra, as
`resemblyzer.audio.wav_to_mel_spectrogram` computes them with librosa. The file is checked
against its sha256 before it is loaded.
"""

from __future__ import annotations

import importlib.util
import threading
from pathlib import Path

import numpy as np
import torch
import torchaudio
from torch import nn

from voices.model_assets import ModelAssetError, sha256_of
from voices.types import PIPELINE_SAMPLE_RATE

GE2E_SHA256 = "39373b86598fa3da9fcddee6142382efe09777e8d37dc9c0561f41f0070f134e"
_N_FFT = 400  # 25 ms
_HOP = 160  # 10 ms
_N_MELS = 40
_HIDDEN = 256
_LAYERS = 3
PARTIAL_FRAMES = 160  # the 1.6 s windows the encoder was trained on
_NORM_TARGET_DBFS = -30.0  # resemblyzer raises quiet speech to this level before encoding


def packaged_ge2e_path() -> Path:
    """resemblyzer/pretrained.pt, found without importing resemblyzer (whose __init__ imports
    webrtcvad and librosa)."""
    spec = importlib.util.find_spec("resemblyzer")
    if spec is None or not spec.submodule_search_locations:
        raise ModelAssetError(
            "package 'resemblyzer' (==0.1.4, for its GE2E weights) is not installed"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / "pretrained.pt"
    if not path.is_file():
        raise ModelAssetError(f"{path} is missing from package 'resemblyzer'")
    return path


class _Ge2eNetwork(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lstm = nn.LSTM(_N_MELS, _HIDDEN, _LAYERS, batch_first=True)
        self.linear = nn.Linear(_HIDDEN, _HIDDEN)

    def forward(self, mels: torch.Tensor) -> torch.Tensor:
        _, (hidden, _) = self.lstm(mels)
        raw = torch.relu(self.linear(hidden[-1]))
        return raw / torch.clamp(torch.norm(raw, dim=1, keepdim=True), min=1e-8)


class Ge2eEncoder:
    """Voice embeddings of 16 kHz float32 audio; thread-safe, load once per process."""

    dimension = _HIDDEN

    def __init__(self, weights: Path | None = None, *, threads: int = 1) -> None:
        path = Path(weights) if weights is not None else packaged_ge2e_path()
        if weights is None and sha256_of(path) != GE2E_SHA256:
            raise ModelAssetError(f"{path}: sha256 does not match the pinned GE2E weights")
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
        state = checkpoint.get("model_state", checkpoint)
        self.network = _Ge2eNetwork()
        self.network.load_state_dict(
            {k: v for k, v in state.items() if k.startswith(("lstm.", "linear."))}, strict=True
        )
        self.network.eval()
        self._mel = torchaudio.transforms.MelSpectrogram(
            sample_rate=PIPELINE_SAMPLE_RATE,
            n_fft=_N_FFT,
            hop_length=_HOP,
            n_mels=_N_MELS,
            power=2.0,
            norm="slaney",
            mel_scale="slaney",
            center=True,
            pad_mode="constant",
        )
        self._threads = threads
        self._lock = threading.Lock()

    def mel_frames(self, audio: np.ndarray) -> np.ndarray:
        """(frames, 40) mel power spectrum at 100 frames a second."""
        wav = torch.from_numpy(_normalise_volume(np.asarray(audio, dtype=np.float32)))
        return self._mel(wav).T.contiguous().numpy()

    def embed_frames(self, mel_windows: np.ndarray) -> np.ndarray:
        """(n, frames, 40) mel windows -> (n, 256) unit vectors."""
        if len(mel_windows) == 0:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with self._lock, torch.inference_mode():
            previous = torch.get_num_threads()
            torch.set_num_threads(self._threads)
            try:
                out = self.network(torch.from_numpy(np.ascontiguousarray(mel_windows)))
            finally:
                torch.set_num_threads(previous)
        return out.numpy().astype(np.float32)

    def embed_utterance(self, audio: np.ndarray, step_frames: int = 80) -> np.ndarray:
        """One unit vector for a whole utterance: the normalised mean of its 1.6 s windows."""
        mel = self.mel_frames(audio)
        windows = sliding_windows(mel, PARTIAL_FRAMES, step_frames)
        vectors = self.embed_frames(np.stack([w for _s, w in windows]))
        mean = vectors.mean(axis=0)
        return mean / max(float(np.linalg.norm(mean)), 1e-8)


def sliding_windows(mel: np.ndarray, size: int, step: int) -> list[tuple[int, np.ndarray]]:
    """(start frame, window) pairs covering `mel`; a short input is zero-padded to one window."""
    if mel.shape[0] <= size:
        padded = np.zeros((size, mel.shape[1]), dtype=np.float32)
        padded[: mel.shape[0]] = mel
        return [(0, padded)]
    starts = list(range(0, mel.shape[0] - size + 1, step))
    if starts[-1] + size < mel.shape[0]:
        starts.append(mel.shape[0] - size)  # cover the tail too
    return [(s, mel[s : s + size]) for s in starts]


def _normalise_volume(audio: np.ndarray) -> np.ndarray:
    """Raise (never lower) the level to -30 dBFS, as resemblyzer's preprocessing does."""
    rms = float(np.sqrt(np.mean(audio**2))) if audio.size else 0.0
    if rms <= 1e-6:
        return audio
    change_db = _NORM_TARGET_DBFS - 20 * np.log10(rms)
    gain = np.float32(10 ** (change_db / 20)) if change_db > 0 else np.float32(1.0)
    return (audio * gain).astype(np.float32, copy=False)
