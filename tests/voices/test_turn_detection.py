"""Semantic end of turn: Smart Turn v3's features and model (voices/turn_detection.py), and the
streaming recogniser's end points with a turn detector (voices/streaming.py).

The end-point logic runs with the fakes of tests/fakes.py (loudness VAD, scripted detector) on
the audio timeline; the real model runs on the real speech fixtures (slow). Cut-offs and added
delay on real speech with pauses are measured by bench/end_of_turn.py, not asserted here.
"""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from tests.fakes import FakeTranscriber, FakeTurnDetector, FakeVadModel, silence, tone
from voices.config import StreamingSettings, TurnDetectionSettings
from voices.streaming import StreamingRecognizer
from voices.turn_detection import last_window, log_mel_features, packaged_model_path
from voices.types import Utterance

SR = 16_000


def _recogniser(detector, **turn: object) -> StreamingRecognizer:
    return StreamingRecognizer(
        FakeTranscriber.saying("one", "two", "three"),
        vad_model=FakeVadModel(),
        streaming=StreamingSettings(partials=False, end_silence_ms=700),
        turn_detector=detector,
        turn_detection=TurnDetectionSettings(**turn),
    )


def _end_points(rec: StreamingRecognizer, pcm: bytes) -> list[float]:
    """Audio seconds at which utterances with words ended (20 ms frames, sync decoding)."""
    points, step = [], SR // 50 * 2
    for i in range(0, len(pcm), step):
        for event in rec.feed(pcm[i : i + step]):
            if isinstance(event, Utterance) and event.transcript.text:
                points.append(round((i + step) / 2 / SR, 2))
    return points


def test_a_confident_detector_ends_the_turn_at_the_first_check() -> None:
    detector = FakeTurnDetector(probability=0.9)
    rec = _recogniser(detector, check_silence_ms=300, max_silence_ms=1600)
    points = _end_points(rec, tone(1000) + silence(2000))
    assert len(points) == 1 and 1.25 <= points[0] <= 1.45  # ~300 ms after the speech
    assert detector.checks and detector.checks[0] >= 1.0  # it heard the whole utterance


def test_an_unsure_detector_waits_for_the_longest_silence() -> None:
    detector = FakeTurnDetector(probability=0.2)
    rec = _recogniser(detector, check_silence_ms=300, recheck_ms=300, max_silence_ms=1600)
    points = _end_points(rec, tone(1000) + silence(2500))
    assert len(points) == 1 and 2.5 <= points[0] <= 2.75  # 1.6 s of silence, not 0.7 s
    assert len(detector.checks) >= 3  # asked again while the pause lasted


def test_a_pause_the_detector_calls_unfinished_does_not_split_the_turn() -> None:
    # a 1 s pause mid-sentence: silence alone (700 ms) cuts the caller off; the detector does not
    pcm = tone(800) + silence(1000) + tone(800) + silence(2500)
    silence_only = _end_points(_recogniser(None), pcm)
    assert len(silence_only) == 2
    unsure = _end_points(_recogniser(FakeTurnDetector(probability=0.1)), pcm)
    assert len(unsure) == 1


def test_thresholds_are_per_language() -> None:
    pcm = tone(1000) + silence(2500)
    strict = dict(thresholds={"yue": 0.95, "cmn": 0.5, "en": 0.5}, max_silence_ms=1600)
    yue = _recogniser(FakeTurnDetector(probability=0.8), **strict)
    yue.language = "yue"
    en = _recogniser(FakeTurnDetector(probability=0.8), **strict)
    en.language = "en"
    assert _end_points(yue, pcm)[0] > _end_points(en, pcm)[0] + 1.0


def test_push_to_talk_never_asks_the_detector() -> None:
    detector = FakeTurnDetector(probability=0.99)
    rec = StreamingRecognizer(
        FakeTranscriber.saying("hold"),
        vad_model=FakeVadModel(),
        endpointing=False,
        turn_detector=detector,
    )
    assert _end_points(rec, tone(800) + silence(2000)) == []
    assert detector.checks == []


def _pipecat_features():
    """pipecat's own numpy feature code, loaded from the installed wheel by path (pipecat itself
    is never imported)."""
    path = packaged_model_path().parents[1] / "_whisper_features.py"
    spec = importlib.util.spec_from_file_location("pipecat_whisper_features", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.compute_whisper_log_mel_features


def test_features_match_pipecats_reference() -> None:
    rng = np.random.default_rng(0)
    audio = (0.1 * rng.standard_normal(SR * 5)).astype(np.float32)
    window = last_window(audio)
    assert window.size == 8 * SR and not window[: 3 * SR].any()  # padded at the start
    mine = log_mel_features(window)
    assert mine.shape == (80, 800) and mine.dtype == np.float32
    np.testing.assert_allclose(mine, _pipecat_features()(window), atol=1e-5)


@pytest.mark.slow
def test_the_real_model_hears_finished_and_unfinished_speech(load_clip) -> None:
    from voices.turn_detection import SmartTurnModel

    model = SmartTurnModel()
    # 2-zh-en.wav: "yesterday was 星期一 | today is tuesday | 明天是星期三"
    clip = load_clip("2-zh-en.wav")
    assert model.end_probability(clip) > 0.8  # the whole turn
    assert model.end_probability(clip[: int(1.9 * SR)]) < 0.3  # "yesterday was ..." cut short


def test_a_missing_model_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    from voices import turn_detection

    monkeypatch.setattr(turn_detection.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(turn_detection.TurnModelMissingError, match=r"pipecat-ai==1\.14\.0"):
        turn_detection.packaged_model_path()
