"""/ws/talk under attack, against a real uvicorn on loopback with the real engines: a lone
surrogate never silences a socket, secure Origin default, per-IP limits, the pre-`start`
window, and idle lines released even when a client keeps sending silence."""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from serving.protocol import encode
from tests.fixtures_serving import LiveServer, run_live_server, serving_settings

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


@contextlib.contextmanager
def live(serving_home, serving_engines, **server: Any) -> Iterator[LiveServer]:
    from serving.app import create_app

    settings = serving_settings(serving_home, **server)
    settings.server.seed_collections = {"speech": serving_home / "collections" / "speech"}
    for server_ in run_live_server(create_app(settings, engines=serving_engines)):
        deadline = time.monotonic() + 60
        while httpx.get(server_.url + "/readyz", timeout=5).status_code != 200:
            assert time.monotonic() < deadline, "server not ready"
            time.sleep(0.1)
        yield server_


def frames_until(ws: ClientConnection, done, timeout: float = 30) -> list[dict[str, Any]]:
    """Frames (JSON; binary as {'type': '__audio__'}) up to the first `done` one, or the close
    (then the last frame is {'type': '__closed__', 'code': ...})."""
    seen: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            message = ws.recv(timeout=max(0.1, deadline - time.monotonic()))
        except TimeoutError:
            break
        except ConnectionClosed as closed:
            seen.append({"type": "__closed__", "code": closed.rcvd.code if closed.rcvd else None})
            return seen
        frame = {"type": "__audio__"} if isinstance(message, bytes) else json.loads(message)
        seen.append(frame)
        if done(frame):
            return seen
    raise AssertionError(f"timed out; frames: {[f['type'] for f in seen]}")


def start(ws: ClientConnection) -> None:
    ws.send(json.dumps({"type": "start", "language": "en", "collection": "speech"}))
    assert frames_until(ws, lambda f: f["type"] == "ready")[-1]["type"] == "ready"


def closed_with(ws: ClientConnection, timeout: float = 30) -> tuple[list[str], int | None]:
    frames = frames_until(ws, lambda f: False, timeout)
    errors = [f["code"] for f in frames if f["type"] == "error"]
    return errors, frames[-1].get("code")


def test_a_lone_surrogate_gets_an_error_and_the_line_keeps_answering(
    serving_home, serving_engines, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="samyu")
    with live(serving_home, serving_engines) as server, connect(server.ws_url) as ws:
        start(ws)
        # raw JSON: "\ud800" is valid JSON, a lone surrogate once decoded
        ws.send('{"type": "text", "text": "How much is a passport? \\ud800"}')
        frames = frames_until(ws, lambda f: f["type"] == "error")
        assert frames[-1]["code"] == "bad_text" and frames[-1]["fatal"] is False
        ws.send(json.dumps({"type": "text", "text": "When are the office counters open?"}))
        frames = frames_until(ws, lambda f: f["type"] == "turn_end", timeout=400)
        assert frames[-1]["answer"], "the next question is answered on the same socket"
    assert "question: When are the office counters open?" in caplog.text


def test_an_unencodable_server_frame_becomes_an_error_frame_and_a_log_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="samyu.protocol")
    text, sent_as_is = encode({"type": "answer", "turn_id": 3, "delta": "fee \ud800"}, "abc")
    frame = json.loads(text)
    assert sent_as_is is False
    assert frame == {**frame, "type": "error", "code": "unencodable_frame", "turn_id": 3}
    assert "abc: answer frame not encodable" in caplog.text


def test_typed_questions_are_logged_redacted(
    serving_home, serving_engines, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="samyu.talk")
    with live(serving_home, serving_engines) as server, connect(server.ws_url) as ws:
        start(ws)
        ws.send(
            json.dumps({"type": "text", "text": "My HKID is A123456（7）, phone ９１２３４５６７"})
        )
        frames_until(ws, lambda f: f["type"] in ("turn_start", "error"))
    lines = [r.getMessage() for r in caplog.records if "question:" in r.getMessage()]
    assert lines and "[hkid]" in lines[0] and "[phone]" in lines[0]
    assert "123456" not in caplog.text and "４５６７" not in caplog.text


def test_by_default_only_the_servers_own_pages_may_open_a_session(
    serving_home, serving_engines
) -> None:
    with live(serving_home, serving_engines) as server:
        host = server.url.removeprefix("http://")
        for evil in ("https://evil.example", f"http://{host}.evil.example", "null"):
            with connect(server.ws_url, origin=evil) as ws:  # type: ignore[arg-type]
                assert closed_with(ws) == (["origin_not_allowed"], 1008)
        with connect(server.ws_url, origin=f"http://{host}") as ws:  # type: ignore[arg-type]
            start(ws)


def test_one_address_cannot_hold_every_line_nor_reconnect_in_a_loop(
    serving_home, serving_engines
) -> None:
    with live(
        serving_home,
        serving_engines,
        max_sessions=8,
        max_sessions_per_ip=2,
        connects_per_minute_per_ip=4,
    ) as server:
        with connect(server.ws_url) as first, connect(server.ws_url) as second:
            start(first)
            start(second)
            with connect(server.ws_url) as third:
                assert closed_with(third) == (["too_many_sessions"], 1013)
        # four connections this minute so far: the fifth is refused however quickly it comes
        with connect(server.ws_url) as fourth:
            start(fourth)
        with connect(server.ws_url) as fifth:
            assert closed_with(fifth) == (["connect_rate_limited"], 1013)


def test_the_pre_start_window_is_short_by_default(serving_home, serving_engines) -> None:
    from serving.settings import ServerSettings

    assert ServerSettings().start_timeout_s <= 3
    with live(serving_home, serving_engines, start_timeout_s=0.5) as server:
        began = time.monotonic()
        with connect(server.ws_url) as ws:
            assert closed_with(ws) == (["start_timeout"], 1008)
        assert time.monotonic() - began < 5


def test_silence_and_stray_frames_do_not_keep_an_idle_line(serving_home, serving_engines) -> None:
    with (
        live(serving_home, serving_engines, idle_timeout_s=1.5) as server,
        connect(server.ws_url) as ws,
    ):
        start(ws)
        began = time.monotonic()
        closed = None
        while time.monotonic() - began < 20 and closed is None:
            try:
                ws.send(b"\x00\x00" * 1600)  # 100 ms of silence
                message = ws.recv(timeout=0.1)
                if isinstance(message, str) and json.loads(message)["type"] == "error":
                    closed = json.loads(message)["code"]
            except TimeoutError:
                continue
            except ConnectionClosed:
                break
        assert closed == "idle_timeout"
        assert time.monotonic() - began < 10
