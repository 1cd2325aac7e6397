"""The language heads are fitted on the encoder window the shipped recogniser reads.

`transcribe()` encodes an utterance with `voices.asr.encoder_window_s` (20 s by default); the
dumps the heads are fitted on must encode the same way, and every head file says which window
its dump read (docs/speech.md, "The encoder window").
"""

from __future__ import annotations

import json
import threading
from types import SimpleNamespace

import numpy as np
import pytest

from bench.voices_language_fit import dump_window
from voices.asr.faster_whisper import FasterWhisperTranscriber
from voices.asr.language_head import DEFAULT_HEAD, QUICK_HEAD, ZH_EN_HEAD
from voices.config import AsrSettings

# the transcriber's own context manager, on a stand-in with only what it reads (no model)
utterance_window = FasterWhisperTranscriber.utterance_window


def test_the_diagnosis_dump_encodes_with_the_window_transcribe_uses() -> None:
    asr = SimpleNamespace(_local=threading.local(), asr=AsrSettings())
    with utterance_window(asr):
        assert asr._local.window_s == AsrSettings().encoder_window_s == 20.0
    assert getattr(asr._local, "window_s", None) is None  # the caller's window comes back
    whole = SimpleNamespace(_local=threading.local(), asr=AsrSettings(encoder_window_s=None))
    with utterance_window(whole):
        assert whole._local.window_s is None


def test_a_head_records_one_window_per_dump() -> None:
    assert dump_window([{"window_s": 20.0}, {"window_s": 20.0}]).startswith("20 s")
    assert "whole 30 s" in dump_window([{"window_s": None}])
    assert "not recorded" in dump_window([{}])
    with pytest.raises(SystemExit):
        dump_window([{"window_s": 20.0}, {"window_s": None}])


@pytest.mark.parametrize("path", [DEFAULT_HEAD, QUICK_HEAD], ids=lambda p: p.stem)
def test_the_yue_cmn_heads_were_fitted_on_the_shipped_window(path) -> None:
    about = json.loads(path.read_text("utf-8"))
    window = AsrSettings().encoder_window_s
    assert about["encoder_window"].startswith(f"{window:g} s"), about.get("encoder_window")


def test_the_zh_en_head_says_which_window_it_was_fitted_on() -> None:
    # kept from the 30 s fit: its refit on the 20 s window rescued one dev Cantonese clip fewer
    # (docs/speech.md, "Heads re-measured and refitted on the 20 s window")
    about = json.loads(ZH_EN_HEAD.read_text("utf-8"))
    assert "30 s" in about["encoder_window"] and "20 s" in about["encoder_window"]


def test_the_likelihood_bench_encodes_with_the_window_transcribe_uses() -> None:
    # bench/voices_language_likelihood.py used to encode the whole 30 s window
    from bench import voices_language_likelihood

    seen: list[float | None] = []
    asr = SimpleNamespace(
        _local=threading.local(),
        _slots=threading.BoundedSemaphore(1),
        _zh_en_head=None,
        asr=AsrSettings(),
        speech_only=lambda audio: audio,
        _encode_window=lambda audio: seen.append(getattr(asr._local, "window_s", None)),
        _language_probs=lambda encoded: {"zh": 0.9, "en": 0.1},  # not an English pick: no decode
    )
    asr.utterance_window = lambda: utterance_window(asr)
    row = voices_language_likelihood.evidence(asr, np.zeros(16000, dtype=np.float32))
    assert seen == [20.0] and row["window_s"] == 20.0
    assert getattr(asr._local, "window_s", None) is None
