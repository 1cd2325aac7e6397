"""The meetings API and `/ws/meeting` against the real app with the real engines (Whisper,
Silero VAD, the GE2E diarizer) on real speech: tokens and collections, upload -> transcript
-> rename -> edit -> exports -> publish -> retrieval, enrolment, bad uploads, live capture."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile
from fastapi.testclient import TestClient

from serving.app import create_app
from serving.settings import AdminToken
from tests.fixtures_serving import ADMIN_TOKEN, run_live_server, serving_settings
from tests.meeting_audio import CLIPS, build, clip

pytestmark = pytest.mark.slow

DEPT = "dept-a-meetings-token"
AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def _settings(home: Path, folder: Path, **meetings: object):
    settings = serving_settings(home)
    settings.server.admin_tokens = [
        AdminToken(token=ADMIN_TOKEN),
        AdminToken(token=DEPT, name="dept", collections=["dept-a"]),
    ]
    settings.meetings.folder = folder
    settings.meetings.keep_audio = True
    settings.meetings.minutes.engine = "extractive"  # the model's minutes: tests/assistant
    for key, value in meetings.items():
        setattr(settings.meetings, key, value)
    return settings


@pytest.fixture(scope="module")
def recording(shared_audio: Path, tmp_path_factory) -> Path:
    """JFK (English) then a Mandarin speaker, as Ogg Vorbis."""
    folder = tmp_path_factory.mktemp("meeting-upload")
    built = build(
        folder / "two.wav",
        [
            ("jfk", clip(CLIPS / "jfk.flac", 0.0, 7.9), 0.0),
            ("zh", clip(shared_audio / "1-zh.wav"), 0.0),
        ],
    )
    audio, rate = soundfile.read(built.path, dtype="float32")
    soundfile.write(folder / "two.ogg", audio, rate, format="OGG", subtype="VORBIS")
    return folder / "two.ogg"


@pytest.fixture(scope="module")
def client(serving_home: Path, serving_engines, tmp_path_factory) -> Iterator[TestClient]:
    app = create_app(
        _settings(serving_home, tmp_path_factory.mktemp("meetings")), engines=serving_engines
    )
    with TestClient(app) as test_client:
        yield test_client


def _wait(client: TestClient, meeting_id: str) -> dict:
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        status = client.get(f"/meetings/{meeting_id}/status", headers=AUTH).json()
        if status["status"] in ("done", "failed"):
            return status
        time.sleep(0.3)  # polling, as a client does
    raise AssertionError(f"meeting {meeting_id} did not finish")


def _upload(client: TestClient, data: bytes, name: str, collection: str = "speech", **form):
    return client.post(
        f"/meetings?collection={collection}",
        files={"file": (name, data)},
        data={k: str(v) for k, v in form.items()},
        headers=AUTH,
    )


def test_every_meeting_route_needs_a_token(client: TestClient) -> None:
    some = "0" * 32
    routes = [
        ("get", "/meetings"),
        ("post", "/meetings?collection=speech"),
        ("get", f"/meetings/{some}"),
        ("get", f"/meetings/{some}/export"),
        ("post", f"/meetings/{some}/speakers"),
        ("post", f"/meetings/{some}/publish"),
        ("delete", f"/meetings/{some}"),
        ("get", f"/meetings/{some}/audio"),
        ("post", "/meetings/voices?collection=speech"),
    ]
    for method, path in routes:
        for headers in ({}, {"Authorization": "Bearer wrong"}):
            assert client.request(method, path, headers=headers).status_code == 401, path
    forbidden = client.post(
        "/meetings?collection=speech",
        files={"file": ("a.wav", b"x")},
        headers={"Authorization": f"Bearer {DEPT}"},
    )
    assert forbidden.status_code == 403


def test_a_meeting_from_upload_to_the_assistant(
    client: TestClient, recording: Path, shared_audio: Path
) -> None:
    enrol = client.post(
        "/meetings/voices?collection=speech",
        data={"name": "陳大文"},
        files={"file": ("voice.wav", (shared_audio / "1-zh.wav").read_bytes())},
        headers=AUTH,
    )
    assert enrol.status_code == 200, enrol.text
    accepted = _upload(client, recording.read_bytes(), "budget meeting.ogg", title="Budget")
    assert accepted.status_code == 202, accepted.text
    meeting_id = accepted.json()["id"]
    assert _wait(client, meeting_id)["status"] == "done"
    record = client.get(f"/meetings/{meeting_id}", headers=AUTH).json()
    transcript = record["transcript"]
    assert len(transcript["speakers"]) == 2 and "陳大文" in transcript["speakers"]
    assert {s["language"] for s in transcript["segments"]} == {"en", "cmn"}
    english = next(s for s in transcript["segments"] if s["language"] == "en")
    assert english["speaker"] != "陳大文" and english["words"]

    renamed = client.post(
        f"/meetings/{meeting_id}/speakers",
        headers=AUTH,
        json={"names": {english["speaker"]: "President Kennedy"}},
    )
    assert renamed.status_code == 200
    assert set(renamed.json()["transcript"]["speakers"]) == {"President Kennedy", "陳大文"}
    edited = client.patch(
        f"/meetings/{meeting_id}/segments/{english['id']}",
        headers=AUTH,
        json={"text": english["text"] + " Call 9123 4567."},
    )
    assert edited.status_code == 200 and edited.json()["edited"]

    exports = {
        fmt: client.get(f"/meetings/{meeting_id}/export?format={fmt}", headers=AUTH)
        for fmt in ("md", "docx", "srt", "vtt", "json")
    }
    assert all(r.status_code == 200 for r in exports.values())
    assert "**[00:00:00] President Kennedy**" in exports["md"].text
    assert "9123 4567" in exports["md"].text
    assert exports["vtt"].text.startswith("WEBVTT") and "<v 陳大文>" in exports["vtt"].text
    assert " --> " in exports["srt"].text and "[President Kennedy]" in exports["srt"].text
    assert json.loads(exports["json"].text)["transcript"]["speakers"]
    from docx import Document

    paragraphs = [p.text for p in Document(io.BytesIO(exports["docx"].content)).paragraphs]
    assert any("陳大文" in p for p in paragraphs)
    redacted = client.get(f"/meetings/{meeting_id}/export?format=md&redact=true", headers=AUTH)
    assert "9123 4567" not in redacted.text and "[phone]" in redacted.text

    audio = client.get(f"/meetings/{meeting_id}/audio", headers=AUTH)
    assert audio.status_code == 200 and audio.content == recording.read_bytes()

    published = client.post(f"/meetings/{meeting_id}/publish", headers=AUTH)
    assert published.status_code == 200, published.text
    hits = client.post(
        "/admin/collections/speech/query",
        headers=AUTH,
        json={"query": "fellow Americans ask not what your country", "k": 3},
    ).json()
    top = hits["hits"][0]
    assert top["doc_id"] == published.json()["doc_id"]
    assert "President Kennedy" in top["text"] and "[00:00:0" in top["text"]

    dept = {"Authorization": f"Bearer {DEPT}"}
    assert client.get(f"/meetings/{meeting_id}", headers=dept).status_code == 404
    assert meeting_id not in json.dumps(client.get("/meetings", headers=dept).json())
    assert meeting_id in json.dumps(client.get("/meetings", headers=AUTH).json())
    assert client.delete(f"/meetings/{meeting_id}", headers=AUTH).status_code == 200
    assert client.get(f"/meetings/{meeting_id}", headers=AUTH).status_code == 404


def test_bad_uploads_get_clear_errors_and_keep_nothing(
    client: TestClient, serving_home: Path, serving_engines, tmp_path: Path
) -> None:
    uploads = client.app.state.meetings.uploads
    empty = _upload(client, b"", "empty.wav")
    assert empty.status_code == 400 and "empty" in empty.json()["detail"]
    corrupt = _upload(client, b"RIFF" + bytes(range(256)) * 20, "corrupt.wav")
    assert corrupt.status_code == 202
    failed = _wait(client, corrupt.json()["id"])
    assert failed["status"] == "failed" and "audio" in failed["error"]
    silence = io.BytesIO()
    soundfile.write(silence, np.zeros(16000 * 5, dtype=np.float32), 16000, format="WAV")
    quiet = _wait(client, _upload(client, silence.getvalue(), "silence.wav").json()["id"])
    assert quiet["status"] == "failed" and "no speech found" in quiet["error"]
    assert "/" not in quiet["error"].split(":")[0].strip("/")  # no server path leaked
    assert list(uploads.iterdir()) == []  # nothing left behind
    small = create_app(
        _settings(serving_home, tmp_path / "m", max_upload_bytes=50_000), engines=serving_engines
    )
    with TestClient(small) as small_client:
        too_big = _upload(small_client, b"\0" * 60_000, "long.wav")
        assert too_big.status_code == 413
        assert small_client.get("/meetings", headers=AUTH).json() == {"meetings": []}


def test_a_live_meeting_over_the_websocket(
    serving_home: Path, serving_engines, recording: Path, tmp_path: Path
) -> None:
    from websockets.sync.client import connect

    app = create_app(_settings(serving_home, tmp_path / "live"), engines=serving_engines)
    audio, rate = soundfile.read(recording, dtype="float32")
    pcm = (np.clip(audio, -1, 1) * 32767).astype("<i2").tobytes()
    for server in run_live_server(app):
        url = server.url.replace("http://", "ws://") + "/ws/meeting"
        with connect(url) as ws:  # no token: refused with a reason
            ws.send(json.dumps({"type": "start", "collection": "speech"}))
            assert json.loads(ws.recv(timeout=30))["code"] == "unauthorized"
        frames = []
        with connect(url, max_size=2**22) as ws:
            ws.send(
                json.dumps(
                    {
                        "type": "start",
                        "sample_rate": rate,
                        "collection": "speech",
                        "token": ADMIN_TOKEN,
                        "title": "Live",
                    }
                )
            )
            ready = json.loads(ws.recv(timeout=60))
            assert ready["type"] == "ready"
            for start in range(0, len(pcm), 6400):  # 200 ms frames
                ws.send(pcm[start : start + 6400])
            ws.send(json.dumps({"type": "stop"}))
            while True:
                frame = json.loads(ws.recv(timeout=300))
                frames.append(frame)
                if frame["type"] in ("meeting", "error"):
                    break
        kinds = [f["type"] for f in frames]
        assert kinds[-1] == "meeting", frames
        segments = [f for f in frames if f["type"] == "segment"]
        assert len(segments) >= 2 and {s["language"] for s in segments} == {"en", "cmn"}
        assert all(s["speaker"] for s in segments)
        import httpx

        record = httpx.get(f"{server.url}/meetings/{ready['id']}", headers=AUTH, timeout=30).json()
        assert record["status"] == "done" and len(record["transcript"]["speakers"]) == 2
        assert frames[-1]["speakers"] == record["transcript"]["speakers"]
