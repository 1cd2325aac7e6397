"""The recogniser's encoder passes (voices/asr/faster_whisper.py), real Whisper on real speech:
the window encoded for language id is reused by the decode of the same audio (one pass, the
same words), and a caller's `cancelled` stops a decode at its next encoder checkpoint
(the streaming recogniser's partial whose utterance has ended)."""

from __future__ import annotations

from pathlib import Path

import pytest

from voices.audio_io import read_file_audio
from voices.scoring import wer
from voices.types import PIPELINE_SAMPLE_RATE

pytestmark = pytest.mark.slow


def _clip(shared_audio: Path, name: str):
    return read_file_audio(shared_audio / name, max_duration_s=60, max_bytes=10_000_000)


@pytest.mark.parametrize("name", ["0-en.wav", "1-zh.wav"])
def test_the_language_id_window_is_not_encoded_again(transcriber, shared_audio, name, monkeypatch):
    audio = _clip(shared_audio, name)
    start = transcriber.encoder_passes
    reused = transcriber.transcribe(audio)
    passes_reused = transcriber.encoder_passes - start

    monkeypatch.setattr(
        transcriber, "asr", transcriber.asr.model_copy(update={"reuse_encoder_output": False})
    )
    start = transcriber.encoder_passes
    again = transcriber.transcribe(audio)
    passes_again = transcriber.encoder_passes - start

    # the decode's features differ only by the extractor's 10 ms end-padding frame: the same
    # words (punctuation may move) and the same language
    assert reused.text and reused.language == again.language
    assert wer(again.text, reused.text) == 0.0, (reused.text, again.text)
    assert passes_reused == 1, passes_reused  # the language id's window, used by the decode
    assert passes_again >= 1
    if name == "0-en.wav":  # decoded by faster-whisper itself: it encoded the window again
        assert passes_again == 2


def test_a_cancelled_partial_stops_after_its_first_encoder_pass(transcriber, shared_audio):
    audio = _clip(shared_audio, "0-en.wav")[: 3 * PIPELINE_SAMPLE_RATE]
    start = transcriber.encoder_passes
    asked: list[int] = []

    def cancelled() -> bool:  # the utterance ends while the language id's window is encoded
        asked.append(transcriber.encoder_passes - start)
        return transcriber.encoder_passes > start

    stopped = transcriber.transcribe(audio, vad_gate=False, provisional=True, cancelled=cancelled)
    assert stopped.text == "" and transcriber.encoder_passes - start == 1
    assert asked[-1] == 1  # it was asked after the pass, and stopped there

    heard = transcriber.transcribe(audio, vad_gate=False, provisional=True, cancelled=lambda: False)
    assert heard.text  # a partial still wanted runs to its end
