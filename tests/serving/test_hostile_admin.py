"""The admin API under attack and faults, against a real `samyu serve` process on loopback:
decompression bombs (with the server's peak RSS measured), one bad file never drops a batch,
kill -9 in the middle of an ingest job, oversized and badly named uploads, CORS off."""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.bombs import MiB, pdf_bomb, zip_bomb
from tests.servers import free_port, running_process

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

TOKEN = "hostile-admin-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
PROJECT = Path(__file__).resolve().parents[2]


def _env(home: Path, **server: str) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(PROJECT),
        "SAMYU_HOME": str(home),
        "SAMYU_SERVER__LOAD_MODELS": "false",
        "SAMYU_SERVER__SEED_COLLECTIONS": "{}",
        "SAMYU_SERVER__ADMIN_TOKENS": json.dumps([{"token": TOKEN, "name": "dept"}]),
        **{f"SAMYU_SERVER__{k.upper()}": v for k, v in server.items()},
    }


@contextmanager
def server(home: Path, log: Path, port: int | None = None, **settings: str) -> Iterator[tuple]:
    port = port or free_port()
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "serving.cli", "serve", "--port", str(port)]
    with running_process(command, f"{url}/healthz", log, env=_env(home, **settings)) as process:
        yield url, process


def peak_rss_mib(pid: int) -> float:
    """VmHWM: the process's peak resident set size so far."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


def wait_job(url: str, job_id: str, timeout: float = 600) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = httpx.get(f"{url}/admin/jobs/{job_id}", headers=AUTH, timeout=10).json()
        if job["status"] in ("done", "partial", "failed"):
            return job
        time.sleep(0.3)
    raise AssertionError(f"job {job_id} did not finish")


def upload(url: str, files: list[tuple[str, bytes]], collection: str = "dept") -> httpx.Response:
    return httpx.post(
        f"{url}/admin/collections/{collection}/documents",
        files=[("files", (name, data)) for name, data in files],
        headers=AUTH,
        timeout=120,
    )


GOOD = [
    ("passport.md", b"# Passport fees\n\nA 32-page passport costs HK$370.\n"),
    ("library.md", b"# Library card\n\nA lost library card costs HK$20 to replace.\n"),
]


def test_bombs_fail_alone_and_cost_the_server_little_memory(tmp_path: Path) -> None:
    bombs = [
        ("bomb.pdf", pdf_bomb(tmp_path / "bomb.pdf").read_bytes()),  # 1 GiB inflated
        ("bomb.docx", zip_bomb(tmp_path / "bomb.docx").read_bytes()),  # 1 GiB inflated
    ]
    assert all(len(data) < 3 * MiB for _n, data in bombs)
    with server(tmp_path / "home", tmp_path / "server.log") as (url, process):
        warm = upload(url, [("warm.md", b"# Warm up\n\nLoads the embedder first.\n")])
        assert wait_job(url, warm.json()["job_id"])["status"] == "done"
        before = peak_rss_mib(process.pid)
        response = upload(url, [GOOD[0], *bombs, GOOD[1]])
        assert response.status_code == 202, response.text
        job = wait_job(url, response.json()["job_id"])
        after = peak_rss_mib(process.pid)
        print(f"\nserver peak RSS {before:.0f} MiB before the bomb upload, {after:.0f} after")
        assert job["status"] == "partial"  # the good files landed, the bombs failed
        files = {f["path"]: f for f in job["report"]["files"]}
        assert files["passport.md"]["status"] == files["library.md"]["status"] == "added"
        assert files["bomb.pdf"]["status"] == "failed"
        assert "inflates past its limit" in files["bomb.pdf"]["reason"]
        assert files["bomb.docx"]["status"] == "failed" and "DOCX" in files["bomb.docx"]["reason"]
        assert after - before < 300, f"peak RSS grew {after - before:.0f} MiB on a bomb upload"
        documents = httpx.get(f"{url}/admin/collections/dept/documents", headers=AUTH).json()
        assert {"passport.md", "library.md"} <= {d["id"] for d in documents["documents"]}


def test_kill_9_during_a_job_loses_no_upload(tmp_path: Path) -> None:
    home = tmp_path / "home"
    files = [
        (f"notice-{n:03d}.md", f"# Notice {n}\n\nCounter {n} opens at 9 am.\n".encode())
        for n in range(60)
    ]
    port = free_port()
    with server(home, tmp_path / "server.log", port) as (url, process):
        response = upload(url, files)
        assert response.status_code == 202
        job_id = response.json()["job_id"]
        deadline = time.monotonic() + 120
        while httpx.get(f"{url}/admin/jobs/{job_id}", headers=AUTH).json()["status"] != "running":
            assert time.monotonic() < deadline
            time.sleep(0.05)
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
    spooled = list((home / "uploads").iterdir())
    assert len(spooled) == 1 and len(list(spooled[0].iterdir())) == 60, "the spool survives"
    assert (home / "jobs" / f"{job_id}.json").exists(), "the job record survives"
    orphan = home / "uploads" / "orphan-from-an-older-crash"
    orphan.mkdir()
    (orphan / "x.md").write_text("x")
    os.utime(orphan, (time.time() - 7200, time.time() - 7200))
    with server(home, tmp_path / "server.log", port, upload_retention_s="3600") as (url, _p):
        job = wait_job(url, job_id)
        assert job["status"] == "done" and job["restarts"] == 1, job
        assert sum(f["status"] in ("added", "unchanged") for f in job["report"]["files"]) == 60
        documents = httpx.get(f"{url}/admin/collections/dept/documents", headers=AUTH).json()
        assert documents["count"] == 60
        assert list((home / "uploads").iterdir()) == [], "spool and orphan removed"


def test_upload_errors_are_clear_4xx_and_cors_is_off(tmp_path: Path) -> None:
    with server(tmp_path / "home", tmp_path / "server.log", max_upload_bytes=str(2 * MiB)) as (
        url,
        _p,
    ):
        long_name = "x" * 297 + ".md"  # 300 bytes: over the file system's 255
        response = upload(url, [(long_name, b"# t\n\ntext\n")])
        assert response.status_code == 400 and "file name of 300 bytes" in response.text

        def chunked_body() -> Iterator[bytes]:  # no Content-Length: only counting can stop it
            yield b'--b\r\nContent-Disposition: form-data; name="files"; filename="big.md"\r\n\r\n'
            for _ in range(21):
                yield b"x" * MiB
            yield b"\r\n--b--\r\n"

        response = httpx.post(
            f"{url}/admin/collections/dept/documents",
            content=chunked_body(),
            headers={**AUTH, "Content-Type": "multipart/form-data; boundary=b"},
            timeout=60,
        )
        assert response.status_code == 413, response.text
        assert list((tmp_path / "home" / "uploads").glob("*/*")) == []
        preflight = httpx.options(
            f"{url}/admin/collections",
            headers={
                "Origin": "https://evil.example",
                "Access-Control-Request-Method": "GET",
                "Access-Control-Request-Headers": "authorization",
            },
        )
        assert "access-control-allow-origin" not in preflight.headers
