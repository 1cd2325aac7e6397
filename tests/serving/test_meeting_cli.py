"""`samyu meeting transcribe` as a user runs it: a real process on real speech."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.meeting_audio import CLIPS, build, clip

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


def _samyu(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SAMYU_HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-m", "serving.cli", "meeting", "transcribe", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        cwd=ROOT,
    )


def test_transcribe_writes_every_export(shared_audio: Path, tmp_path: Path) -> None:
    meeting = build(
        tmp_path / "meeting.flac",
        [
            ("zh", clip(shared_audio / "1-zh.wav"), 0.0),
            ("jfk", clip(CLIPS / "jfk.flac", 7.9), 0.0),
        ],
    )
    out = tmp_path / "out"
    done = _samyu(
        str(meeting.path), "--speakers", "2", "--json", "--out", str(out), home=tmp_path / "home"
    )
    assert done.returncode == 0, done.stderr[-2000:]
    record = json.loads(done.stdout)
    transcript = record["transcript"]
    assert len(transcript["speakers"]) == 2
    assert transcript["segments"][0]["language"] == "cmn"
    assert "country" in transcript["segments"][-1]["text"].lower()
    assert record["minutes"]["engine"] == "extractive"
    assert sorted(p.suffix for p in out.iterdir()) == [".docx", ".json", ".md", ".srt", ".vtt"]


def test_a_corrupt_file_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.m4a"
    bad.write_bytes(b"\0\0\0\x18ftypM4A " + b"garbage" * 100)
    done = _samyu(str(bad), home=tmp_path / "home")
    assert done.returncode == 2
    assert done.stderr.startswith("error: ") and "bad.m4a" in done.stderr
