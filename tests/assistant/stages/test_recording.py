"""Callers' audio is written only when configured, one bounded wav per utterance."""

from __future__ import annotations

from pathlib import Path

import soundfile

from assistant.stages.recording import UtteranceRecorder


def test_nothing_is_kept_or_written_without_a_directory(tmp_path: Path) -> None:
    recorder = UtteranceRecorder(None, sample_rate=16_000, max_utterance_s=1)
    recorder.keep(b"\x01\x00" * 16_000)
    assert recorder.finish(store=True) is None and not list(tmp_path.iterdir())


def test_an_utterance_is_written_bounded_by_the_limit(tmp_path: Path) -> None:
    recorder = UtteranceRecorder(tmp_path / "audio", sample_rate=16_000, max_utterance_s=1)
    for _ in range(30):
        recorder.keep(b"\x01\x00" * 1600)  # 3 s in 0.1 s frames
    path = recorder.finish(store=True)
    assert path is not None and path.parent == tmp_path / "audio"
    assert 1.0 <= soundfile.info(str(path)).duration <= 1.1
    recorder.keep(b"\x01\x00" * 1600)
    assert recorder.finish(store=False) is None  # an utterance that made no turn
    assert len(list((tmp_path / "audio").iterdir())) == 1
