"""/ws/talk refusals and limits: every bad input gets an `error` frame with a precise code and,
where the session cannot go on, a clean close with the documented close code. The server is
the real app, session and assistant code; its engines are the fakes of tests/fakes.py (no model
loads), so these run in the fast tier. tests/serving/test_talk.py runs the real engines."""

from __future__ import annotations

import json
import time

import pytest

from tests.fakes import FakeGenerator
from tests.serving.talk_client import Recorder

START = {"type": "start", "sample_rate": 16000, "language": "en", "collection": "demo"}


def started(ws) -> Recorder:
    rec = Recorder(ws)
    ws.send_json(START)
    rec.until_type("ready")
    return rec


def error_codes(rec: Recorder) -> list[str]:
    return [f["code"] for f in rec.of_type("error")]


def test_ready_announces_protocol_limits_and_audio_formats(fake_talk_client) -> None:
    client = fake_talk_client(max_text_chars=321)
    with client.websocket_connect("/ws/talk") as ws:
        ws.send_json({**START, "protocol": 1, "future_field": {"x": 1}})  # unknown: ignored
        ready = Recorder(ws).until_type("ready")
    assert ready["protocol"] == 1 and len(ready["session_id"]) >= 16
    assert ready["limits"]["max_text_chars"] == 321
    assert ready["audio"]["input"]["format"] == "pcm_s16le"
    assert 16000 in ready["audio"]["input"]["sample_rates"]
    assert ready["audio"]["output"]["format"] == "pcm_s16le"
    assert ready["audio"]["output"]["sample_rate"] > 0  # language given: its voice's rate


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("{not json", "bad_json"),
        ("[1, 2, 3]", "bad_frame"),
        ('{"type": "dance"}', "unknown_type"),
        ('{"no_type": 1}', "unknown_type"),
        ('{"type": "start", "sample_rate": "fast"}', "bad_frame"),
        ('{"type": "start", "language": "fr"}', "bad_frame"),
        ('{"type": "start", "sample_rate": 11025}', "unsupported_sample_rate"),
        ('{"type": "start", "collection": "nope"}', "unknown_collection"),
        ('{"type": "start", "collection": "../etc"}', "unknown_collection"),
        ('{"type": "text", "text": "hi"}', "not_started"),
        ('{"type": "end_of_speech"}', "not_started"),
    ],
)
def test_bad_frames_before_start_get_an_error_and_the_session_goes_on(
    fake_talk_client, frame: str, code: str
) -> None:
    client = fake_talk_client()
    with client.websocket_connect("/ws/talk") as ws:
        rec = Recorder(ws)
        ws.send_text(frame)
        error = rec.until_type("error")
        assert error["code"] == code and error["message"] and error["fatal"] is False
        ws.send_json(START)  # the same socket still works
        assert rec.until_type("ready")["protocol"] == 1


def test_binary_before_start_and_odd_audio_are_refused(fake_talk_client) -> None:
    client = fake_talk_client()
    with client.websocket_connect("/ws/talk") as ws:
        rec = Recorder(ws)
        ws.send_bytes(b"\x00\x01" * 100)
        assert rec.until_type("error")["code"] == "not_started"
        ws.send_json(START)
        rec.until_type("ready")
        ws.send_bytes(b"\x00\x01\x02")
        assert rec.until_type("error")["code"] == "bad_audio"
        ws.send_json(START)
        assert rec.until_type("error")["code"] == "already_started"


def test_unsupported_protocol_version_closes_with_1002(fake_talk_client) -> None:
    client = fake_talk_client()
    with client.websocket_connect("/ws/talk") as ws:
        rec = Recorder(ws)
        ws.send_json({**START, "protocol": 99})
        error = rec.until_type("error")
        assert error["code"] == "unsupported_protocol" and error["fatal"] is True
        assert rec.until_closed() == 1002


def test_oversized_frames_close_with_1009(fake_talk_client) -> None:
    client = fake_talk_client(max_message_bytes=2048)
    with client.websocket_connect("/ws/talk") as ws:
        rec = started(ws)
        ws.send_bytes(b"\x00" * 4096)
        assert rec.until_type("error")["code"] == "message_too_big"
        assert rec.until_closed() == 1009
    with client.websocket_connect("/ws/talk") as ws:
        rec = Recorder(ws)
        ws.send_text(json.dumps({"type": "text", "text": "x" * 5000}))
        assert rec.until_type("error")["code"] == "message_too_big"
        assert rec.until_closed() == 1009


def test_a_flood_of_frames_closes_with_1008(fake_talk_client) -> None:
    client = fake_talk_client(max_messages_per_s=20, message_burst=10)
    with client.websocket_connect("/ws/talk") as ws:
        rec = started(ws)
        for _ in range(40):
            ws.send_bytes(b"\x00\x00" * 160)
        assert "rate_limited" in [rec.until_type("error")["code"]]
        assert rec.until_closed() == 1008


def test_repeated_protocol_errors_close_the_session(fake_talk_client) -> None:
    client = fake_talk_client(max_protocol_errors=3)
    with client.websocket_connect("/ws/talk") as ws:
        rec = Recorder(ws)
        for _ in range(3):
            ws.send_text("garbage")
        assert rec.until_closed() == 1008
        assert error_codes(rec) == ["bad_json", "bad_json", "bad_json"]
        assert rec.of_type("error")[-1]["fatal"] is True


def test_browsers_from_other_origins_are_refused(fake_talk_client) -> None:
    client = fake_talk_client(allowed_origins=["https://www.example.gov.hk"])
    with client.websocket_connect("/ws/talk", headers={"origin": "https://evil.example"}) as ws:
        rec = Recorder(ws)
        assert rec.until_type("error")["code"] == "origin_not_allowed"
        assert rec.until_closed() == 1008
    with client.websocket_connect(
        "/ws/talk", headers={"origin": "https://www.example.gov.hk"}
    ) as ws:
        started(ws)


def test_beyond_max_sessions_a_busy_error_then_close_never_a_stall(fake_talk_client) -> None:
    client = fake_talk_client(max_sessions=2)
    with (
        client.websocket_connect("/ws/talk") as first,
        client.websocket_connect("/ws/talk") as second,
    ):
        started(first)
        started(second)
        with client.websocket_connect("/ws/talk") as third:
            rec = Recorder(third)
            error = rec.until_type("error")
            assert error["code"] == "busy" and error["fatal"] is True
            assert rec.until_closed() == 1013
        metrics = client.get("/metrics").text
        assert 'samyu_sessions_refused_total{reason="busy"} 1.0' in metrics
        assert "samyu_sessions_active 2.0" in metrics
    with client.websocket_connect("/ws/talk") as again:  # freed: accepted again
        started(again)
    deadline = time.monotonic() + 5
    while "samyu_sessions_active 0.0" not in client.get("/metrics").text:
        assert time.monotonic() < deadline, "session count leaked"
        time.sleep(0.05)


def test_start_timeout_idle_timeout_and_session_length(fake_talk_client) -> None:
    client = fake_talk_client(start_timeout_s=0.3)
    with client.websocket_connect("/ws/talk") as ws:
        rec = Recorder(ws)
        assert rec.until_type("error")["code"] == "start_timeout"
        assert rec.until_closed() == 1008
    client = fake_talk_client(idle_timeout_s=0.4)
    with client.websocket_connect("/ws/talk") as ws:
        rec = started(ws)
        assert rec.until_type("error")["code"] == "idle_timeout"
        assert rec.until_closed() == 1000
    client = fake_talk_client(max_session_s=0.8, idle_timeout_s=30)
    with client.websocket_connect("/ws/talk") as ws:
        rec = started(ws)
        silence = b"\x00\x00" * 1600
        began = time.monotonic()
        while rec.close_code is None and time.monotonic() - began < 10:
            ws.send_bytes(silence)  # keeps the session busy, not idle
            time.sleep(0.1)
            if time.monotonic() - began > 0.9:
                break
        assert rec.until_type("error")["code"] == "session_expired"
        assert rec.until_closed() == 1000


def test_typed_question_limits(fake_talk_client) -> None:
    client = fake_talk_client(max_text_chars=20)
    with client.websocket_connect("/ws/talk") as ws:
        rec = started(ws)
        ws.send_json({"type": "text", "text": "   "})
        assert rec.until_type("error")["code"] == "empty_text"
        ws.send_json({"type": "text", "text": "x" * 21})
        assert rec.until_type("error")["code"] == "text_too_long"
        assert not rec.of_type("turn_start")


def test_turns_per_minute_and_stopping_an_answer(fake_talk_client) -> None:
    # the model is held mid-answer, so the stop lands on an answer in progress
    client = fake_talk_client(turns_per_minute=1, generator=FakeGenerator(hold_at=2))
    with client.websocket_connect("/ws/talk") as ws:
        rec = started(ws)
        ws.send_json({"type": "text", "text": "How do I renew my passport?"})
        turn = rec.until_type("turn_start")
        ws.send_json({"type": "text", "text": "And for a child?"})
        assert rec.until_type("error")["code"] == "too_many_turns"
        ws.send_json({"type": "stop", "scope": "turn"})
        interrupted = rec.until_type("interrupted")
        assert interrupted["turn_id"] == turn["turn_id"] and interrupted["reason"] == "stop"
        ws.send_json({"type": "stop"})
        assert rec.until_closed() == 1000
    assert not [
        f
        for f in rec.frames
        if f.get("turn_id") == turn["turn_id"] and f["type"] in ("turn_end", "audio_start")
    ]


def test_errors_are_counted_by_code_in_metrics(fake_talk_client) -> None:
    client = fake_talk_client()
    with client.websocket_connect("/ws/talk") as ws:
        rec = Recorder(ws)
        ws.send_text("{")
        rec.until_type("error")
        ws.send_text('{"type": "x"}')
        rec.until_type("error")
    metrics = client.get("/metrics").text
    assert 'samyu_errors_total{code="bad_json"} 1.0' in metrics
    assert 'samyu_errors_total{code="unknown_type"} 1.0' in metrics
