"""Production speaker embeddings by path: a 3D-Speaker CAM++ or WeSpeaker ONNX model.

Those models take 80-band Kaldi log-mel filterbanks with the mean removed, shaped
(batch, frames, 80), and return one embedding per item. Used inside the embedded clustering
engine instead of GE2E (`meetings.diarization.speaker_embedding_onnx`); nothing downloaded.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime
import torch
import torchaudio

from voices.diarization.ge2e import sliding_windows
from voices.diarization.types import DiarizationError
from voices.types import PIPELINE_SAMPLE_RATE


class OnnxFbankEmbedder:
    def __init__(self, path: Path, threads: int = 1) -> None:
        path = Path(path).expanduser()
        if not path.is_file():
            raise DiarizationError(f"speaker embedding model {path} does not exist")
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        try:
            self.session = onnxruntime.InferenceSession(
                str(path), sess_options=options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime raises its own untyped errors
            raise DiarizationError(f"{path} is not a loadable ONNX model: {exc}") from exc
        self.input_name = self.session.get_inputs()[0].name
        self.name = f"onnx-{path.stem}"

    def fbank(self, audio: np.ndarray) -> np.ndarray:
        wave = torch.from_numpy(np.asarray(audio, dtype=np.float32) * 32768.0).unsqueeze(0)
        feats = torchaudio.compliance.kaldi.fbank(
            wave,
            num_mel_bins=80,
            frame_length=25,
            frame_shift=10,
            dither=0.0,
            sample_frequency=PIPELINE_SAMPLE_RATE,
        ).numpy()
        return feats - feats.mean(axis=0, keepdims=True)

    def embed_windows(
        self, audio: np.ndarray, window_s: float, step_s: float
    ) -> tuple[np.ndarray, np.ndarray]:
        feats = self.fbank(audio)
        windows = sliding_windows(feats, round(window_s * 100), max(1, round(step_s * 100)))
        vectors = []
        for _start, window in windows:
            (out,) = self.session.run(None, {self.input_name: window[None].astype(np.float32)})[:1]
            vector = np.asarray(out, dtype=np.float32).reshape(-1)
            vectors.append(vector / max(float(np.linalg.norm(vector)), 1e-8))
        return np.array([s / 100 for s, _w in windows]), np.stack(vectors)
