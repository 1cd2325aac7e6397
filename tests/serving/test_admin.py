"""The admin API over the real knowledge base: auth, upload + background ingest, documents,
query with explain, eval, retrieval settings, upload limits."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.serving.conftest import ADMIN, DEMO_ONLY, bearer

DEMO_QUESTIONS = (
    Path(__file__).resolve().parents[2] / "knowledge_base" / "demo_corpus" / "questions.jsonl"
)
NOTICE = (
    "# Library card renewal\n\nA public library card is renewed free of charge at any "
    "library counter. Bring your identity card. Lost cards cost HK$20 to replace.\n"
)


def wait_for_job(client: TestClient, job_id: str, token: str = ADMIN) -> dict:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        job = client.get(f"/admin/jobs/{job_id}", headers=bearer(token)).json()
        if job["status"] in ("done", "partial", "failed"):
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not finish")


def upload(client: TestClient, collection: str, files: list[tuple[str, bytes]], token=ADMIN):
    return client.post(
        f"/admin/collections/{collection}/documents",
        files=[("files", (name, data)) for name, data in files],
        headers=bearer(token),
    )


def test_every_admin_route_needs_a_valid_token(admin_client) -> None:
    client = admin_client()
    routes = [
        ("get", "/admin/collections"),
        ("get", "/admin/collections/demo/documents"),
        ("post", "/admin/collections/demo/query"),
        ("get", "/admin/collections/demo/settings"),
        ("patch", "/admin/collections/demo/settings"),
        ("post", "/admin/collections/demo/eval"),
        ("delete", "/admin/collections/demo/documents/x.md"),
        ("put", "/admin/collections/demo/documents"),
        ("get", "/admin/collections/demo/files"),
        ("get", "/admin/collections/demo/redirect"),
        ("patch", "/admin/collections/demo/redirect"),
        ("get", "/admin/collections/demo/disagreements"),
        ("get", "/admin/report"),
        ("get", "/admin/jobs/123"),
    ]
    for method, path in routes:
        for headers in ({}, bearer("wrong"), {"Authorization": "Basic YTpi"}):
            response = client.request(method, path, headers=headers, json={})
            assert response.status_code == 401, (method, path, headers)
            assert response.headers["www-authenticate"] == "Bearer"


def test_a_token_limited_to_collections_gets_403_outside_them(admin_client) -> None:
    client = admin_client()
    assert client.get("/admin/collections", headers=bearer(DEMO_ONLY)).json() == {
        "collections": [
            n
            for n in client.get("/admin/collections", headers=bearer(ADMIN)).json()["collections"]
            if n == "dept-a"
        ]
    }
    forbidden = client.post(
        "/admin/collections/demo/query", json={"query": "passport"}, headers=bearer(DEMO_ONLY)
    )
    assert forbidden.status_code == 403
    assert upload(client, "demo", [("a.md", b"# a\n\ntext")], DEMO_ONLY).status_code == 403
    assert (
        client.get("/admin/collections/demo/settings", headers=bearer(DEMO_ONLY)).status_code == 403
    )


def test_upload_ingests_in_the_background_then_list_query_delete(admin_client) -> None:
    client = admin_client()
    name = f"t-{uuid.uuid4().hex[:8]}"
    response = upload(
        client,
        name,
        [("../../library card.md", NOTICE.encode()), ("broken.pdf", b"%PDF-1.4 not really")],
    )
    assert response.status_code == 202
    body = response.json()
    assert body["files"] == ["library card.md", "broken.pdf"]  # no path traversal
    job = wait_for_job(client, body["job_id"])
    assert job["status"] == "partial" and job["progress"] == 1.0
    assert [f.split(":")[0] for f in job["failures"]] == ["broken.pdf"]
    statuses = {f["path"]: f for f in job["report"]["files"]}
    assert statuses["library card.md"]["status"] == "added"
    assert statuses["broken.pdf"]["status"] == "failed" and statuses["broken.pdf"]["reason"]

    documents = client.get(f"/admin/collections/{name}/documents", headers=bearer(ADMIN)).json()
    assert [d["id"] for d in documents["documents"]] == ["library card.md"]

    hits = client.post(
        f"/admin/collections/{name}/query",
        json={"query": "How do I renew a library card?", "explain": True},
        headers=bearer(ADMIN),
    ).json()["hits"]
    assert hits[0]["doc_id"] == "library card.md"
    assert {"dense_rank", "bm25_rank", "fused"} <= set(hits[0]["explain"])
    explain = hits[0]["explain"]
    assert explain["dense_share"] + explain["bm25_share"] == pytest.approx(1.0, abs=0.002)
    assert "dense #" in explain["summary"] and "fused" in explain["summary"]

    gone = client.delete(
        f"/admin/collections/{name}/documents/library card.md", headers=bearer(ADMIN)
    )
    assert gone.status_code == 200
    again = client.delete(
        f"/admin/collections/{name}/documents/library card.md", headers=bearer(ADMIN)
    )
    assert again.status_code == 404
    documents = client.get(f"/admin/collections/{name}/documents", headers=bearer(ADMIN)).json()
    assert documents["count"] == 0


def test_uploads_over_the_limit_get_413_and_leave_nothing(admin_client, demo_kb) -> None:
    client = admin_client(max_upload_bytes=4096)
    name = f"t-{uuid.uuid4().hex[:8]}"
    response = upload(client, name, [("big.txt", b"x" * 10_000)])
    assert response.status_code == 413
    uploads = demo_kb.settings.home / "uploads"
    assert not uploads.exists() or not any(uploads.iterdir())
    assert (
        client.get(f"/admin/collections/{name}/documents", headers=bearer(ADMIN)).status_code == 404
    )


def test_query_with_explain_on_the_demo_collection(admin_client) -> None:
    client = admin_client()
    response = client.post(
        "/admin/collections/demo/query",
        json={"query": "護照費用幾多錢？", "k": 3, "explain": True},
        headers=bearer(ADMIN),
    )
    assert response.status_code == 200
    hits = response.json()["hits"]
    assert 1 <= len(hits) <= 3
    assert all(h["explain"]["fused"] == h["score"] for h in hits)
    assert any("passport" in h["doc_id"] or "護照" in h["title"] for h in hits)
    bad = client.post(
        "/admin/collections/demo/query",
        json={"query": "x", "options": {"chunk_size": 10}},
        headers=bearer(ADMIN),
    )
    assert bad.status_code == 422


def test_eval_reports_recall_per_language(admin_client) -> None:
    client = admin_client()
    lines = DEMO_QUESTIONS.read_text(encoding="utf-8").splitlines()
    questions = [json.loads(line) for line in lines[:6] + lines[-6:]]
    response = client.post(
        "/admin/collections/demo/eval", json={"questions": questions}, headers=bearer(ADMIN)
    )
    assert response.status_code == 200
    report = response.json()
    assert {"recall@1", "recall@5", "recall@10", "mrr", "ndcg@10", "by_language"} <= set(report)
    assert report["count"] == len(questions)
    assert report["recall@10"] > 0.5
    assert {"misses", "partial"} <= set(report)
    assert set(report["by_language"]) == {q["language"] for q in questions}


def test_retrieval_settings_read_and_change(admin_client) -> None:
    client = admin_client()
    name = f"t-{uuid.uuid4().hex[:8]}"
    wait_for_job(client, upload(client, name, [("notice.md", NOTICE.encode())]).json()["job_id"])
    path = f"/admin/collections/{name}/settings"
    before = client.get(path, headers=bearer(ADMIN)).json()
    assert before["k"] == 5
    changed = client.patch(path, json={"k": 3, "bm25_weight": 0.7}, headers=bearer(ADMIN))
    assert changed.status_code == 200 and changed.json()["k"] == 3
    assert client.get(path, headers=bearer(ADMIN)).json()["bm25_weight"] == 0.7
    assert client.patch(path, json={"k": 0}, headers=bearer(ADMIN)).status_code == 422
    assert client.patch(path, json={"nonsense": 1}, headers=bearer(ADMIN)).status_code == 422
    assert client.get(path, headers=bearer(ADMIN)).json()["k"] == 3


def test_openapi_documents_the_admin_api(admin_client) -> None:
    client = admin_client()
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert "/admin/collections/{name}/documents" in paths
    assert "/admin/jobs/{job_id}" in paths


@pytest.mark.parametrize("bad_name", ["UPPER", "a/b", "-x"])
def test_bad_collection_names_are_refused(admin_client, bad_name: str) -> None:
    client = admin_client()
    response = client.get(f"/admin/collections/{bad_name}/documents", headers=bearer(ADMIN))
    assert response.status_code in (404, 422)


def test_a_limited_token_sees_only_its_own_collections_report(admin_client) -> None:
    client = admin_client()
    assert client.get("/admin/report?collection=demo", headers=bearer(DEMO_ONLY)).status_code == 403
    assert client.get("/admin/report", headers=bearer(DEMO_ONLY)).status_code == 400
    everything = client.get("/admin/report?hours=1", headers=bearer(ADMIN))
    assert everything.status_code == 200 and "demo" in everything.json()["never_retrieved"]
