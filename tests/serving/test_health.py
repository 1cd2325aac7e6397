"""/healthz, /readyz and the refusal of calls while the server cannot take them."""

from __future__ import annotations

import time
from pathlib import Path

from fastapi.testclient import TestClient

from serving.app import create_app
from tests.serving.conftest import admin_settings
from tests.serving.talk_client import Recorder


def wait_loaded(client: TestClient) -> dict:
    deadline = time.monotonic() + 60
    while True:
        body = client.get("/readyz").json()
        if client.app.state.runtime.status["collections"] != "loading":
            return body
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_ready_when_seed_collections_are_indexed(demo_kb) -> None:
    settings = admin_settings(demo_kb.settings.home)
    settings.server.seed_collections = {"demo": Path("/nonexistent/already-indexed")}
    with TestClient(create_app(settings)) as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        body = wait_loaded(client)
        response = client.get("/readyz")
        assert response.status_code == 200, body
        assert body["collections"] == {"demo": True} and body["models"] == "off"


def test_ready_means_the_first_chinese_caller_finds_the_tokeniser_loaded(
    demo_kb, monkeypatch
) -> None:
    """The warm-up retrieves in Chinese too: the BM25 tokeniser's jieba dictionary (~0.7 s
    to load) is loaded before /readyz, not in the first Cantonese caller's turn."""
    import knowledge_base.tokenise as tokenise

    monkeypatch.setattr(tokenise, "_jieba", None)  # as in a freshly started process
    settings = admin_settings(demo_kb.settings.home)
    settings.server.seed_collections = {"demo": Path("/nonexistent/already-indexed")}
    with TestClient(create_app(settings)) as client:
        wait_loaded(client)
        assert client.app.state.runtime.status["collections"] == "ready"
        assert tokenise._jieba is not None


def test_not_ready_without_the_index_and_no_calls_without_models(tmp_path: Path) -> None:
    settings = admin_settings(tmp_path / "home")
    settings.server.seed_collections = {"missing": tmp_path / "no-such-folder"}
    with TestClient(create_app(settings)) as client:
        assert client.get("/healthz").status_code == 200
        body = wait_loaded(client)
        response = client.get("/readyz")
        assert response.status_code == 503
        assert body["ready"] is False and body["collections"] == {"missing": False}
        with client.websocket_connect("/ws/talk") as ws:
            rec = Recorder(ws)
            error = rec.until_type("error")
            assert error["code"] == "not_ready" and error["fatal"] is True
            assert rec.until_closed() == 1013
        metrics = client.get("/metrics").text
        assert 'samyu_sessions_refused_total{reason="not_ready"} 1.0' in metrics


def test_metrics_expose_every_timing_histogram(tmp_path: Path) -> None:
    settings = admin_settings(tmp_path / "home")
    with TestClient(create_app(settings)) as client:
        text = client.get("/metrics").text
    for stage in ("asr", "retrieval", "first_token", "first_audio", "voice_to_voice"):
        assert f'samyu_turn_stage_seconds_count{{stage="{stage}"}} 0.0' in text
    for name in ("samyu_sessions_active", "samyu_turns", "samyu_errors", "samyu_barge_ins"):
        assert f"# TYPE {name}" in text
