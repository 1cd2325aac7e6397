"""A bounded fuzz of /ws/talk: a few hundred malformed or hostile frames (seeded, so a failure
replays) must each get an `error` frame or a clean close, never a crash or a hang, and the
server must keep serving new sessions afterwards with no session left counted."""

from __future__ import annotations

import json
import random
import time

import pytest

from tests.serving.talk_client import Recorder

pytestmark = pytest.mark.timeout(300)

KNOWN_CODES = {
    "bad_json",
    "bad_frame",
    "unknown_type",
    "not_started",
    "already_started",
    "unsupported_sample_rate",
    "unknown_collection",
    "unsupported_protocol",
    "bad_audio",
    "empty_text",
    "text_too_long",
    "bad_text",  # a lone surrogate in a typed question (docs/protocol.md)
    "message_too_big",
    "rate_limited",
}
HOSTILE_STRINGS = [
    "",
    " ",
    "\x00",
    "\ud800",
    "💥" * 50,
    "<script>alert(1)</script>",
    "'; DROP TABLE x; --",
    "A123456(7)",
    "../../etc/passwd",
    "%s%s%s",
    "{{7*7}}",
    "嘅係唔咗喺" * 10,
]


def random_frame(rng: random.Random, started: bool) -> str | bytes:
    choice = rng.randrange(10)
    if choice == 0:  # raw garbage text
        return "".join(chr(rng.randrange(1, 0x3000)) for _ in range(rng.randrange(1, 200)))
    if choice == 1:  # truncated JSON
        text = json.dumps({"type": "start", "sample_rate": 16000})
        return text[: rng.randrange(1, len(text))]
    if choice == 2:  # deeply nested JSON
        depth = rng.choice([10, 100, 5000])
        return "[" * depth + "]" * depth
    if choice == 3:  # wrong types in known frames
        kind = rng.choice(["start", "text", "end_of_speech", "stop"])
        value = rng.choice([None, 1e308, -1, [], {}, True, "x" * 300, float("nan")])
        field = rng.choice(["sample_rate", "language", "collection", "text", "protocol", "scope"])
        return json.dumps({"type": kind, field: value})
    if choice == 4:  # unknown or odd types
        return json.dumps({"type": rng.choice(["START", "audio", "", None, 7, "ping"])})
    if choice == 5:  # starts with bad values
        return json.dumps(
            {
                "type": "start",
                "sample_rate": rng.choice([0, 1, 7999, 11025, 96000, -16000, 16000]),
                "collection": rng.choice(["nope", "demo", "../x", "A", "speech"]),
                "language": rng.choice(["auto", "xx", "yue"]),
                "protocol": rng.choice([1, 0, 2, "1"]),
            }
        )
    if choice == 6:  # hostile text questions: empty or over the limit (no turn runs)
        text = rng.choice(HOSTILE_STRINGS)
        text = text if not text.strip() else text * 200
        return json.dumps({"type": "text", "text": text})
    if choice == 7 and not started:  # audio before start
        return rng.randbytes(rng.randrange(0, 4000))
    if choice == 7:  # odd-length audio after start
        return b"\x00" * (2 * rng.randrange(0, 200) + 1)
    if choice == 8:  # JSON that is not an object
        return json.dumps(rng.choice([[1], "start", 3, None, True]))
    return json.dumps({"type": "end_of_speech", "extra": rng.random()})


def test_malformed_frames_get_errors_and_the_server_carries_on(talk_client) -> None:
    client = talk_client(max_text_chars=500, max_protocol_errors=1000, message_burst=1000)
    rng = random.Random(20261124)
    sent = 0
    for _session in range(6):
        with client.websocket_connect("/ws/talk") as ws:
            rec = Recorder(ws)
            started = False
            for _ in range(50):
                frame = random_frame(rng, started)
                before = len(rec.frames)
                if isinstance(frame, bytes):
                    ws.send_bytes(frame)
                else:
                    ws.send_text(frame)
                sent += 1
                ws.send_text('{"type": "nonsense-marker"}')  # every frame is answered by now
                reply = rec.until(
                    lambda f: (
                        (
                            f.get("code") == "unknown_type"
                            and "nonsense-marker" in f.get("message", "")
                        )
                        or f["type"] == "__closed__"
                    )
                )
                if reply["type"] == "__closed__":
                    assert rec.close_code in (1002, 1008, 1009), rec.frames[-3:]
                    break
                for frame_out in rec.frames[before:]:
                    if frame_out["type"] == "ready":
                        started = True
                    elif frame_out["type"] == "error":
                        assert frame_out["code"] in KNOWN_CODES, frame_out
                    elif frame_out["type"] not in ("speech_started", "transcript"):
                        raise AssertionError(f"unexpected frame {frame_out}")
    assert sent >= 100
    with client.websocket_connect("/ws/talk") as ws:  # still serving
        ws.send_json({"type": "start", "collection": "demo"})
        assert Recorder(ws).until_type("ready")["protocol"] == 1
    assert client.get("/healthz").json() == {"status": "ok"}
    deadline = time.monotonic() + 5
    while "samyu_sessions_active 0.0" not in client.get("/metrics").text:
        assert time.monotonic() < deadline, "a session is still counted"
        time.sleep(0.05)
    assert 'samyu_errors_total{code="internal"}' not in client.get("/metrics").text
