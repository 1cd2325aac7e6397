"""A department's and an operator's admin API flows, end to end over HTTP against a real
`samyu serve` process on loopback (admin only: no voice models), configured by environment
as a deployment would be: files addressed by name, stable FAQ row ids, sync by PUT, job
outcomes, the per-collection redirect, the language-version check, the report, and /docs.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.servers import free_port, running_process

pytestmark = pytest.mark.slow
TOKEN = "department-token-for-http-tests"
PROJECT = Path(__file__).resolve().parents[2]

FAQ = (
    "question,answer\n"
    "How much is a 32-page passport?,HK$370.\n"
    "Where do I renew a passport?,At any Immigration branch office.\n"
    "How long does a renewal take?,About 10 working days.\n"
)
FEES_EN = "# Passport fees\nA 32-page passport costs HK$370; a 48-page one HK$460.\n"
FEES_ZH = "# 護照費用\n32頁護照收費港幣370元；48頁護照收費港幣420元。\n"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    home = tmp_path_factory.mktemp("admin-http-home")
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(PROJECT),
        "SAMYU_HOME": str(home),
        "SAMYU_SERVER__LOAD_MODELS": "false",
        "SAMYU_SERVER__SEED_COLLECTIONS": "{}",
        "SAMYU_SERVER__ADMIN_TOKENS": json.dumps([{"token": TOKEN, "name": "dept"}]),
    }
    command = [sys.executable, "-m", "serving.cli", "serve", "--port", str(port)]
    log = home / "server.log"
    url = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with (
        running_process(command, f"{url}/healthz", log, env=env),
        httpx.Client(base_url=url, headers=headers, timeout=60) as client,
    ):
        yield client


def _job(client: httpx.Client, response: httpx.Response) -> dict:
    assert response.status_code == 202, response.text
    job_id = response.json()["job_id"]
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        job = client.get(f"/admin/jobs/{job_id}").json()
        if job["status"] in ("done", "partial", "failed"):
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not finish")


def _files(files: dict[str, str | bytes]) -> list:
    return [("files", (name, data)) for name, data in files.items()]


def _ids(client: httpx.Client, collection: str) -> dict[str, str]:
    documents = client.get(f"/admin/collections/{collection}/documents").json()["documents"]
    return {d["id"]: d["source"] for d in documents}


def test_files_are_addressed_by_name_and_rows_keep_their_ids(server: httpx.Client) -> None:
    post = server.post("/admin/collections/dept/documents", files=_files({"faq.csv": FAQ}))
    job = _job(server, post)
    assert job["status"] == "done", job
    before = _ids(server, "dept")
    assert len(before) == 3 and all(i.startswith("faq.csv#q-") for i in before)

    # the department removes the first row and uploads the table again: the others keep ids
    trimmed = FAQ.replace("How much is a 32-page passport?,HK$370.\n", "")
    _job(
        server, server.post("/admin/collections/dept/documents", files=_files({"faq.csv": trimmed}))
    )
    after = _ids(server, "dept")
    assert len(after) == 2 and set(after) < set(before)

    files = server.get("/admin/collections/dept/files").json()["files"]
    assert files == [{"path": "faq.csv", "documents": 2, "chunks": 2}]
    deleted = server.delete("/admin/collections/dept/documents/faq.csv")
    assert deleted.status_code == 200 and sorted(deleted.json()["documents"]) == sorted(after)
    assert _ids(server, "dept") == {}
    assert server.delete("/admin/collections/dept/documents/faq.csv").status_code == 404


def test_put_syncs_the_whole_file_set_and_jobs_say_what_failed(server: httpx.Client) -> None:
    path = "/admin/collections/sync/documents"
    first = {"en/fees.md": FEES_EN, "hours.md": "# Hours\nOpen 9 am to 5 pm.\n"}
    job = _job(server, server.put(path, files=_files(first)))
    assert job["status"] == "done" and job["sync"] is True
    assert set(_ids(server, "sync")) == {"fees.md", "hours.md"}

    job = _job(server, server.put(path, files=_files({"hours.md": "# Hours\nOpen 9 to 6.\n"})))
    assert job["status"] == "done"
    assert set(_ids(server, "sync")) == {"hours.md"}  # fees.md was not in the set: removed

    broken = {"scan.pdf": b"%PDF-1.7 truncated"}
    job = _job(server, server.put(path, files=_files(broken)))
    assert job["status"] == "failed" and "scan.pdf" in job["error"]
    assert set(_ids(server, "sync")) == {"hours.md"}  # a broken upload removes nothing

    job = _job(server, server.put(path, files=_files({**broken, "hours.md": "# Hours\n9-6.\n"})))
    assert job["status"] == "partial"
    assert [f.split(":")[0] for f in job["failures"]] == ["scan.pdf"]


def test_language_versions_that_disagree_are_reported_at_ingest(server: httpx.Client) -> None:
    # uploads are flat (file names only), so the two versions share a title stem by name
    files = {"passport-fees.md": FEES_EN, "passport-fees.zh.md": FEES_ZH}
    job = _job(server, server.post("/admin/collections/bilingual/documents", files=_files(files)))
    assert job["status"] == "done"
    listed = server.get("/admin/collections/bilingual/disagreements").json()["disagreements"]
    assert job["report"]["disagreements"] == listed
    [found] = listed
    assert found["only_in"] == {"passport-fees.md": ["460"], "passport-fees.zh.md": ["420"]}


def test_each_collection_has_its_own_hotline_and_wording(server: httpx.Client) -> None:
    path = "/admin/collections/transport/redirect"
    assert server.get(path).json() == {"hotline": None, "yue": None, "cmn": None, "en": None}
    changed = server.patch(
        path,
        json={"hotline": "2804 2600", "en": "Please call the Transport Department on {hotline}."},
    )
    assert changed.status_code == 200 and changed.json()["hotline"] == "2804 2600"
    assert server.get(path).json()["en"].endswith("on {hotline}.")
    assert server.patch(path, json={"fax": "1"}).status_code == 422
    assert server.patch(path, json={"hotline": "9" * 100}).status_code == 422
    assert server.get("/admin/collections/dept/redirect").json()["hotline"] is None


def test_report_and_offline_api_docs(server: httpx.Client) -> None:
    _job(
        server, server.post("/admin/collections/report/documents", files=_files({"a.md": FEES_EN}))
    )
    report = server.get("/admin/report", params={"hours": 1, "collection": "report"}).json()
    assert report["turns"] == 0 and report["never_retrieved"] == {"report": ["a.md"]}
    assert server.get("/admin/report", params={"hours": 0}).status_code == 422

    docs = server.get("/docs")
    assert docs.status_code == 200
    assert "cdn" not in docs.text.lower() and "/api-docs-assets/swagger-ui-bundle.js" in docs.text
    bundle = server.get("/api-docs-assets/swagger-ui-bundle.js")
    assert bundle.status_code == 200 and len(bundle.content) > 500_000
    redoc = server.get("/redoc")
    assert (
        "/api-docs-assets/redoc.standalone.js" in redoc.text
        and "fonts.googleapis" not in redoc.text
    )
