"""The Cantonese/Mandarin encoder head: its file, its scoring and the encoder pooling it reads.

The head on real speech is tested in tests/voices/test_faster_whisper.py (slow: real Whisper
base); its accuracy is measured by bench/voices_language_fit.py fit-head (docs/speech.md).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from voices.asr.faster_whisper import encoder_embedding
from voices.asr.language_head import DEFAULT_HEAD, LanguageHead, load_head

WHISPER_BASE_WIDTH = 512


def test_the_shipped_head_fits_whisper_base_and_says_how_it_was_fitted() -> None:
    head = load_head(DEFAULT_HEAD)
    assert head.feature_weights.size == 4  # voices.asr.faster_whisper.vote_features
    assert head.embedding_weights.size == 2 * WHISPER_BASE_WIDTH  # mean and std of frames
    assert np.all(np.isfinite(head.embedding_weights)) and np.isfinite(head.bias)
    about = json.loads(DEFAULT_HEAD.read_text("utf-8"))
    assert "dev" in about["fitted_by"] and isinstance(about["seed"], int)


def test_a_head_scores_one_dot_product_and_round_trips(tmp_path: Path) -> None:
    head = LanguageHead(np.array([1.0, -2.0]), np.array([0.5, 0.0, -1.0]), 0.25)
    score = head.score((1.0, 1.0), np.array([2.0, 9.0, 1.0]))
    assert score == pytest.approx(0.25 + 1.0 - 2.0 + 1.0 - 1.0)
    path = tmp_path / "head.json"
    head.to_json(path, fitted_by="test")
    again = LanguageHead.from_json(path)
    assert again.score((1.0, 1.0), np.array([2.0, 9.0, 1.0])) == pytest.approx(score)


def test_a_head_for_another_model_is_a_clear_error() -> None:
    head = LanguageHead(np.zeros(4), np.zeros(2 * WHISPER_BASE_WIDTH), 0.0)
    with pytest.raises(ValueError, match="another Whisper model"):
        head.score((0.0, 0.0, 0.0, 0.0), np.zeros(2 * 1280))  # large-v3's width


@pytest.mark.parametrize(
    "text", ["", "not json", json.dumps({"bias": 0.0}), json.dumps({"feature_weights": 1})]
)
def test_a_broken_head_file_is_a_clear_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / "head.json"
    path.write_text(text, "utf-8")
    with pytest.raises(ValueError, match="language head"):
        LanguageHead.from_json(path)


def test_a_missing_head_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="language head"):
        LanguageHead.from_json(tmp_path / "absent.json")


def test_the_embedding_pools_only_the_frames_that_hold_the_audio() -> None:
    # one frame per 20 ms: 1 s of audio is the first 50 of the window's 1500 frames; the
    # padding after it must not dilute the statistics
    frames = np.zeros((1, 1500, 3), np.float32)
    frames[0, :50] = np.arange(50, dtype=np.float32)[:, None]
    frames[0, 50:] = 1000.0
    pooled = encoder_embedding(frames, seconds=1.0)
    assert pooled.shape == (6,)
    np.testing.assert_allclose(pooled[:3], 24.5)
    np.testing.assert_allclose(pooled[3:], np.arange(50).std(), rtol=1e-5)


def test_the_embedding_of_a_very_short_clip_still_has_two_frames() -> None:
    frames = np.arange(1500 * 2, dtype=np.float32).reshape(1, 1500, 2)
    assert np.all(np.isfinite(encoder_embedding(frames, seconds=0.0)))


def test_the_quick_head_reads_the_embedding_alone_and_says_its_margin() -> None:
    from voices.asr.language_head import QUICK_HEAD

    head = LanguageHead.from_json(QUICK_HEAD)
    assert head.embedding_weights.size == 1024  # Whisper base's pooled 512-wide frames
    assert not head.feature_weights.any()  # no decode is read: it can run before any
    assert head.confident_margin is not None and head.confident_margin > 0
    about = json.loads(QUICK_HEAD.read_text("utf-8"))
    assert "dev split" in about["fitted_by"] and about["dev_clips"] > 50


def test_a_head_without_a_margin_has_none(tmp_path: Path) -> None:
    path = tmp_path / "head.json"
    LanguageHead(np.zeros(4), np.ones(3), 0.5).to_json(path)
    assert LanguageHead.from_json(path).confident_margin is None
    LanguageHead(np.zeros(4), np.ones(3), 0.5).to_json(path, confident_margin=2.5)
    assert LanguageHead.from_json(path).confident_margin == 2.5


def test_the_zh_en_head_reads_one_feature_and_its_margin_is_the_settings_default() -> None:
    from voices.asr.language_head import ZH_EN_HEAD
    from voices.config import AsrSettings

    head = LanguageHead.from_json(ZH_EN_HEAD)
    assert head.feature_weights.size == 1  # zh_en_feature: known before any decode
    assert head.embedding_weights.size == 1024
    # a refit writes a new margin into the file: the setting must follow it
    assert head.confident_margin == AsrSettings().zh_en_head_margin
    about = json.loads(ZH_EN_HEAD.read_text("utf-8"))
    assert "dev split" in about["fitted_by"] and "English" in about["margin_rule"]
