"""`samyu ask` as a user runs it: a subprocess over the session's real collection."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile


def samyu(args: list[str], kb_home: Path, timeout: int = 600) -> subprocess.CompletedProcess:
    env = {**os.environ, "SAMYU_HOME": str(kb_home), "HF_HUB_OFFLINE": "1"}
    env["SAMYU_ASSISTANT__FIRST_TOKEN_TIMEOUT_S"] = "120"  # speed is the bench's business
    return subprocess.run(
        [sys.executable, "-m", "serving.cli", *args],
        capture_output=True, text=True, env=env, timeout=timeout,
    )  # fmt: skip


@pytest.fixture(scope="module")
def kb_home(assistant_kb) -> Path:
    return assistant_kb.settings.home


def test_ask_text_json(kb_home):
    result = samyu(["ask", "--text", "How much is a 48-page passport?", "--collection", "mini",
                    "--json"], kb_home)  # fmt: skip
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert set(out) >= {"transcript", "language", "answer", "refused", "sources", "timings"}
    assert out["transcript"] == "How much is a 48-page passport?"
    assert out["language"] == "en" and not out["refused"] and "460" in out["answer"]
    assert out["sources"][0]["doc_id"] == "en/passport-fees.md"
    assert {"number", "title", "snippet", "link"} <= out["sources"][0].keys()
    assert out["timings"]["first_token"] > 0


def test_ask_audio_runs_the_whole_spoken_turn(kb_home, tmp_path):
    """A question spoken by the English neural voice, transcribed by Whisper, answered and
    spoken back into a WAV file. Piper samples noise on every call, and with it Whisper heard
    "passport" as "password" now and then (one CI run in many), so the question is spoken with
    the noise off: the same audio every run, which Whisper hears as it was written."""
    from voices.tts.piper import PiperSynthesizer

    voice = PiperSynthesizer(noise_scale=0.0, noise_w_scale=0.0)
    pcm = b"".join(c.pcm for c in voice.synthesize("How much is the passport fee?", "en"))
    question = tmp_path / "question.wav"
    soundfile.write(question, np.frombuffer(pcm, "<i2"), voice.sample_rate, subtype="PCM_16")
    answer = tmp_path / "answer.wav"
    result = samyu(["ask", "--audio", str(question), "--collection", "mini", "--out", str(answer),
                    "--json"], kb_home)  # fmt: skip
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert "passport" in out["transcript"].lower() and out["language"] == "en"
    assert not out["refused"] and out["sources"], out
    assert {"asr", "first_audio"} <= out["timings"].keys()
    audio, rate = soundfile.read(answer)
    assert rate > 0 and len(audio) / rate > 1.0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ask", "--collection", "mini"], "exactly one of --text or --audio"),
        (["ask", "--text", "q", "--audio", "x.wav", "--collection", "mini"], "exactly one"),
        (["ask", "--audio", "/no/such.wav", "--collection", "mini"], "is not a file"),
        (["ask", "--text", "q", "--lang", "fr", "--collection", "mini"], "--lang"),
    ],
)
def test_ask_usage_errors(kb_home, args, message):
    result = samyu(args, kb_home, timeout=120)
    assert result.returncode == 2
    assert message in result.stderr


def test_ask_bad_question_prints_the_error_as_json(kb_home):
    result = samyu(["ask", "--text", "😀😀", "--collection", "mini", "--json"], kb_home)
    assert result.returncode == 1
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["error"]["code"] == "no_words"


def test_eval_answers_prints_the_table_per_language(kb_home, tmp_path):
    qa = tmp_path / "qa.jsonl"
    rows = [
        {"id": "a", "language": "en", "question": "How much is a 48-page passport?",
         "answers": ["460"], "answerable": True},
        {"id": "b", "language": "en", "question": "How much does it cost to courier a passport "
         "to an overseas address?", "answers": [], "answerable": False},
    ]  # fmt: skip
    qa.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    result = samyu(["eval", "answers", str(qa), "--collection", "mini", "--json"], kb_home)
    assert result.returncode == 0, result.stderr
    table = {row["language"]: row for row in json.loads(result.stdout.strip().splitlines()[-1])}
    assert table["en"]["gold"] == "1/1" and table["en"]["refused_unanswerable"] == "1/1"
    assert table["en"]["invented"] == "0/1"


def test_eval_answers_rejects_a_bad_qa_file(kb_home, tmp_path):
    qa = tmp_path / "qa.jsonl"
    qa.write_text("not json\n", encoding="utf-8")
    result = samyu(["eval", "answers", str(qa), "--collection", "mini"], kb_home)
    assert result.returncode == 2 and "qa.jsonl:1" in result.stderr
