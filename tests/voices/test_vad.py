"""Silero VAD over onnxruntime: streaming state, and speech vs non-speech."""

from __future__ import annotations

import numpy as np
from faster_whisper.vad import get_vad_model

from voices.vad import WINDOW, SileroVad, speech_ratio


def test_streaming_in_odd_pieces_matches_faster_whispers_batch(load_clip, vad_model) -> None:
    audio = load_clip("0-en.wav")
    audio = audio[: audio.size // WINDOW * WINDOW]
    batch = get_vad_model()(audio).reshape(-1)
    vad = SileroVad(vad_model)
    streamed = np.concatenate([vad.process(audio[i : i + 777]) for i in range(0, audio.size, 777)])
    assert streamed.size == batch.size
    assert np.allclose(streamed, batch, atol=1e-5)


def test_speech_is_speech_and_noise_is_not(load_clip, vad_model) -> None:
    assert speech_ratio(load_clip("1-zh.wav"), 0.5, vad_model) > 0.5
    rng = np.random.default_rng(0)
    noise = rng.normal(0, 0.2, 16_000 * 3).clip(-1, 1).astype(np.float32)
    assert speech_ratio(noise, 0.5, vad_model) < 0.05
    assert speech_ratio(np.zeros(16_000, np.float32), 0.5, vad_model) == 0.0


def test_partial_windows_wait_for_more_audio(vad_model) -> None:
    vad = SileroVad(vad_model)
    assert vad.process(np.zeros(300, np.float32)).size == 0
    assert vad.process(np.zeros(300, np.float32)).size == 1
