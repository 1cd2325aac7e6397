"""Whole turns over /ws/talk with the real engines: typed, push-to-talk and VAD end points,
frame order, timings, metrics. (Limits and refusals: test_talk_limits.py.)"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from tests.serving.talk_client import Recorder, chunks, pcm16

pytestmark = pytest.mark.timeout(600)


def start(ws, **fields) -> Recorder:
    rec = Recorder(ws)
    ws.send_json({"type": "start", "collection": "speech", **fields})
    rec.until_type("ready")
    return rec


def assert_turn_frames_in_order(rec: Recorder, turn_id: int) -> None:
    types = rec.types()
    first = types.index("turn_start")
    end = max(i for i, f in enumerate(rec.frames) if f["type"] == "turn_end")
    body = rec.frames[first : end + 1]
    kinds = [f["type"] for f in body]
    assert kinds[0] == "turn_start" and kinds[-1] == "turn_end"
    assert kinds.index("sources") < kinds.index("answer")
    audio = [i for i, k in enumerate(kinds) if k == "__audio__"]
    assert audio, "no audio frames"
    assert kinds.index("audio_start") < audio[0] and audio[-1] < kinds.index("audio_end")
    assert all(f["bytes"] % 2 == 0 for f in body if f["type"] == "__audio__")
    assert all(f.get("turn_id") == turn_id for f in body if f["type"] != "__audio__")


def test_a_typed_question_streams_sources_answer_and_audio(talk_client) -> None:
    client = talk_client()
    with client.websocket_connect("/ws/talk") as ws:
        rec = start(ws, language="en")
        ws.send_json({"type": "text", "text": "When are the counters open?"})
        end = rec.until_type("turn_end")
    assert_turn_frames_in_order(rec, end["turn_id"])
    sources = rec.of_type("sources")[0]["sources"]
    assert sources[0]["doc_id"] == "office-days.md"
    assert {"number", "doc_id", "title", "snippet", "link"} <= set(sources[0])
    answer = "".join(f["delta"] for f in rec.of_type("answer"))
    assert answer == end["answer"] and answer.strip()
    assert end["refused"] is False and end["language"] == "en"
    metrics = client.get("/metrics").text
    outcome = answered_outcome(metrics, "text")
    assert 'samyu_turn_stage_seconds_count{stage="first_audio"} 1.0' in metrics
    journal = client.app.state.runtime.metrics.journal  # the operator report's store
    row = [t for t in journal.turns(0) if t["question"] == "When are the counters open?"][-1]
    assert (row["outcome"], row["input"], row["language"]) == (outcome, "text", "en")
    assert row["sources"][0] == "office-days.md" and row["timings"]["first_audio"] > 0
    assert {"retrieval", "first_token", "first_audio"} <= set(end["timings"])
    audio_start = rec.of_type("audio_start")[0]
    assert audio_start["format"] == "pcm_s16le" and audio_start["sample_rate"] >= 8000
    assert 'samyu_turn_stage_seconds_count{stage="voice_to_voice"} 0.0' in metrics


def test_push_to_talk_at_8_khz_ends_on_end_of_speech(talk_client, shared_audio: Path) -> None:
    client = talk_client()
    data, rate = pcm16(shared_audio / "8k-en.wav")
    assert rate == 8000
    with client.websocket_connect("/ws/talk") as ws:
        rec = start(ws, sample_rate=8000, mode="push_to_talk")
        for chunk in chunks(data, 1600):
            ws.send_bytes(chunk)
        ws.send_json({"type": "end_of_speech"})
        transcript = rec.until_type("transcript")
        end = rec.until_type("turn_end")
    words = transcript["text"].lower()
    assert "hester" in words or "thoughts" in words or "apprehension" in words, words
    assert transcript["language"] == "en"
    turn = rec.of_type("turn_start")[0]
    assert turn["input"] == "voice" and turn["text"] == transcript["text"]
    assert rec.of_type("speech_started")
    # nothing in the collections about this sentence: a spoken, polite redirect
    assert end["refused"] is True and rec.of_type("audio_start")
    assert {"asr", "voice_to_voice", "first_audio"} <= set(end["timings"])
    assert end["timings"]["voice_to_voice"] >= end["timings"]["asr"] * 0.5


def test_hands_free_turn_ends_at_the_vad_end_point(talk_client, shared_audio: Path) -> None:
    client = talk_client()
    data, _ = pcm16(shared_audio / "0-en.wav", silence_s=1.5)
    with client.websocket_connect("/ws/talk") as ws:
        rec = start(ws, language="auto")  # hands_free is the default mode
        for chunk in chunks(data):  # at real time, like a microphone: partials come out
            ws.send_bytes(chunk)
            time.sleep(0.1)
        transcript = rec.until_type("transcript")
        end = rec.until_type("turn_end")
    assert "nightfall" in transcript["text"].lower() or "lamps" in transcript["text"].lower()
    assert rec.of_type("partial"), "partials while speaking"
    assert_turn_frames_in_order(rec, end["turn_id"])
    assert "street-lamps.md" in [s["doc_id"] for s in rec.of_type("sources")[0]["sources"]]
    assert end["timings"]["voice_to_voice"] > 0
    metrics = client.get("/metrics").text
    assert 'samyu_turn_stage_seconds_count{stage="voice_to_voice"} 1.0' in metrics
    answered_outcome(metrics, "voice")


def answered_outcome(metrics: str, kind: str) -> str:
    """The outcome of the one turn of this input kind: not refused, not cancelled (the model's
    answer, or its quoted fallback when the small model's answer was rejected or late)."""
    found = re.findall(rf'samyu_turns_total{{input="{kind}",outcome="(\w+)"}} 1\.0', metrics)
    assert len(found) == 1, metrics
    assert found[0] in ("model", "extractive_fallback", "timeout", "error"), found
    return found[0]


def test_storing_audio_needs_a_directory() -> None:
    from pydantic import ValidationError

    from serving.settings import ServerSettings

    assert ServerSettings().store_audio is False
    with pytest.raises(ValidationError, match="audio_dir"):
        ServerSettings(store_audio=True)


def test_an_utterance_over_the_limit_is_cut_and_answered(talk_client, shared_audio: Path) -> None:
    client = talk_client(max_utterance_s=2.0)
    data, rate = pcm16(shared_audio / "8k-en.wav")  # 4.8 s of speech
    with client.websocket_connect("/ws/talk") as ws:
        rec = start(ws, sample_rate=rate, mode="push_to_talk")
        assert rec.of_type("ready")[0]["limits"]["max_utterance_s"] == 2.0
        for chunk in chunks(data, 1600):
            ws.send_bytes(chunk)
        error = rec.until(lambda f: f["type"] == "error")
        assert error["code"] == "utterance_too_long" and error["fatal"] is False
        transcript = rec.until_type("transcript")
        assert transcript["text"], "the first 2 s are transcribed and answered"
        rec.until_type("turn_start")
        ws.send_json({"type": "stop"})
        assert rec.until_closed() == 1000
