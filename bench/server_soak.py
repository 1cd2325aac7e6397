"""Soak: a real `samyu serve` for a bounded time under normal callers, hostile frames, bad-file
uploads and a kill -9 / restart in the middle. Prints sessions served, errors by code, lost
uploads (must be 0), the server's peak RSS and its RSS after the run.

    .venv/bin/python bench/server_soak.py [--minutes 10] [--rss-growth-mb 300]

Workers (asyncio, all from 127.0.0.1, so the per-IP connect rate is raised for the run):
- callers: sessions that ask a typed question (and, where ../shared/fixtures/audio exists,
  speak one) and wait for the answer;
- hostile: sockets sending bad JSON, unknown frames, lone surrogates, oversized frames, audio
  before `start`, floods, a foreign Origin, and sockets that never send `start`;
- uploads: every ~15 s an upload of two good files beside a PDF bomb, a DOCX bomb, an HTML
  bomb and junk, plus a 300-byte file name (400) and a chunked oversized body (413);
- at half time the server is killed with SIGKILL right after an upload of 40 files was
  accepted, and restarted on the same SAMYU_HOME and port.
A good file of an accepted (202) upload that is not in the collection at the end is lost.
"RSS after" is read after a quiet period at the end; the run fails (exit 1) when uploads
were lost or RSS after grew past `--rss-growth-mb` over the "warm" RSS of the same process
(after its first answered turn and finished ingest job: the LLM context and the recogniser's
buffers are allocated on first use, which is not growth).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx
import psutil
import websockets

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.bombs import MiB, html_bomb, pdf_bomb, zip_bomb  # noqa: E402
from tests.fixtures_serving import SPEECH_DOCS  # noqa: E402

AUDIO = ROOT.parent / "shared" / "fixtures" / "audio"
TOKEN = "soak-admin-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
QUESTIONS = [
    ("en", "When are the office counters open?"),
    ("en", "Who maintains the street lamps?"),
    ("cmn", "全球金融動盪有甚麼問題？"),
]


class Soak:
    def __init__(self, home: Path, minutes: float) -> None:
        self.home = home
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}/ws/talk"
        self.deadline = time.monotonic() + minutes * 60
        self.half = time.monotonic() + minutes * 30
        self.process: subprocess.Popen | None = None
        self.up = asyncio.Event()
        self.errors: Counter[str] = Counter()
        self.served = 0
        self.turns = 0
        self.hostile = 0
        self.accepted: dict[str, list[str]] = {}  # job id -> good file names
        self.upload_codes: Counter[int] = Counter()
        self.peak_rss = 0.0
        self.ready_rss = 0.0
        # RSS of the current process once it has answered a turn and finished an upload job:
        # first-use allocations (LLM context, ASR buffers) are behind it, so growth past it is
        # what the soak itself costs
        self.warm_rss = 0.0
        self.processes: list[dict[str, float]] = []  # per server process: ready, warm, last RSS
        self.turns_since_start = 0
        self.jobs_since_start = 0
        self.restarts = 0
        self.log = open(home.parent / "server.log", "ab")  # noqa: SIM115 - closed in stop()

    # ---- the server ----------------------------------------------------------------------

    def env(self) -> dict[str, str]:
        docs = self.home.parent / "speech-docs"
        docs.mkdir(exist_ok=True)
        for name, text in SPEECH_DOCS.items():
            (docs / name).write_text(text, encoding="utf-8")
        return {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "SAMYU_HOME": str(self.home),
            "SAMYU_SERVER__SEED_COLLECTIONS": json.dumps({"speech": str(docs)}),
            "SAMYU_SERVER__ADMIN_TOKENS": json.dumps([{"token": TOKEN, "name": "soak"}]),
            "SAMYU_SERVER__CONNECTS_PER_MINUTE_PER_IP": "6000",
            "SAMYU_SERVER__MAX_SESSIONS_PER_IP": "16",
            "SAMYU_SERVER__TURNS_PER_MINUTE": "1000",
        }

    async def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "serving.cli", "serve", "--port", str(self.port)],
            cwd=ROOT,
            env=self.env(),
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        async with httpx.AsyncClient() as client:
            while True:
                if self.process.poll() is not None:
                    raise RuntimeError("server exited; see server.log")
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(self.url + "/readyz", timeout=2)).status_code == 200:
                        break
                await asyncio.sleep(1)
        if not self.ready_rss:
            self.ready_rss = self.rss()
        self.warm_rss, self.turns_since_start, self.jobs_since_start = 0.0, 0, 0
        self.processes.append({"ready": self.rss(), "warm": 0.0, "last": self.rss()})
        self.up.set()

    def rss(self) -> float:
        try:
            return psutil.Process(self.process.pid).memory_info().rss / MiB
        except (psutil.Error, AttributeError):
            return 0.0

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.log.close()

    async def monitor(self) -> None:
        async with httpx.AsyncClient(timeout=10) as client:
            while time.monotonic() < self.deadline:
                rss = self.rss()
                self.peak_rss = max(self.peak_rss, rss)
                if self.processes and self.up.is_set() and rss:
                    self.processes[-1]["last"] = rss
                if not self.warm_rss and self.turns_since_start and self.up.is_set():
                    with contextlib.suppress(httpx.HTTPError, ValueError):
                        text = (await client.get(self.url + "/metrics")).text
                        if 'samyu_ingest_jobs_total{status="done"}' in text:
                            self.warm_rss = self.processes[-1]["warm"] = rss
                await asyncio.sleep(0.5)

    async def killer(self, bombs: dict[str, bytes]) -> None:
        await asyncio.sleep(max(0.0, self.half - time.monotonic()))
        await self.up.wait()
        files = [(f"bulk-{n:03d}.md", _good(f"bulk {n}")) for n in range(40)]
        await self.upload(files, [name for name, _d in files])
        await asyncio.sleep(0.5)
        self.up.clear()
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait()
        self.restarts += 1
        print(f"  killed the server (SIGKILL) at {time.strftime('%H:%M:%S')}; restarting")
        await self.start()

    # ---- workers -------------------------------------------------------------------------

    async def caller(self, number: int) -> None:
        speech = _pcm16(AUDIO / "0-en.wav") if (AUDIO / "0-en.wav").exists() else None
        while time.monotonic() < self.deadline:
            await self.up.wait()
            language, question = QUESTIONS[(number + self.served) % len(QUESTIONS)]
            try:
                async with websockets.connect(self.ws_url, max_size=2**24) as ws:
                    start = {"type": "start", "language": language, "collection": "speech"}
                    await ws.send(json.dumps({**start, "mode": "push_to_talk"}))
                    await self._expect(ws, "ready", 30)
                    self.served += 1
                    await ws.send(json.dumps({"type": "text", "text": question}))
                    await self._expect(ws, "turn_end", 300)
                    self.turns += 1
                    self.turns_since_start += 1
                    if speech is not None and number == 0:
                        for i in range(0, len(speech), 1280):
                            await ws.send(speech[i : i + 1280])
                            await asyncio.sleep(0.04)
                        await ws.send(json.dumps({"type": "end_of_speech"}))
                        await self._expect(ws, "turn_end", 300)
                        self.turns += 1
                    await ws.send(json.dumps({"type": "stop"}))
            except (OSError, websockets.WebSocketException, TimeoutError) as exc:
                self.errors[f"caller:{type(exc).__name__}"] += 1
                await asyncio.sleep(1)

    async def _expect(self, ws, kind: str, timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            message = await asyncio.wait_for(ws.recv(), deadline - time.monotonic())
            if isinstance(message, bytes):
                continue
            frame = json.loads(message)
            if frame["type"] == "error":
                self.errors[frame["code"]] += 1
            if frame["type"] == kind:
                return frame

    async def hostile_socket(self) -> None:
        attacks = [
            ["not json", "{]", '{"type": "nope"}', '{"type": "text"}'],
            ['{"type": "start", "collection": "speech"}', '{"type": "text", "text": "\\ud800?"}'],
            ['{"type": "start", "collection": "speech"}', b"\x00" * (70 * 1024)],
            [b"\x00\x01" * 100],
            ['{"type": "start", "collection": "speech"}'] + ["{}"] * 400,
            ["__origin__"],
            ["__silent__"],
        ]
        n = 0
        while time.monotonic() < self.deadline:
            await self.up.wait()
            frames = attacks[n % len(attacks)]
            n += 1
            origin = "https://evil.example" if frames == ["__origin__"] else None
            try:
                async with websockets.connect(self.ws_url, origin=origin, max_size=2**24) as ws:
                    for frame in frames:
                        if frame in ("__origin__", "__silent__"):
                            break
                        await ws.send(frame)
                    with contextlib.suppress(websockets.ConnectionClosed, TimeoutError):
                        while True:
                            message = await asyncio.wait_for(ws.recv(), 6)
                            if isinstance(message, str) and json.loads(message)["type"] == "error":
                                self.errors[json.loads(message)["code"]] += 1
                self.hostile += 1
            except (OSError, websockets.WebSocketException) as exc:
                self.errors[f"hostile:{type(exc).__name__}"] += 1
            await asyncio.sleep(1.5)

    async def upload(self, files: list[tuple[str, bytes]], good: list[str]) -> None:
        try:
            async with httpx.AsyncClient(timeout=120) as client:
                response = await client.post(
                    f"{self.url}/admin/collections/soak/documents",
                    files=[("files", (name, data)) for name, data in files],
                    headers=AUTH,
                )
        except httpx.HTTPError as exc:
            self.errors[f"upload:{type(exc).__name__}"] += 1
            return
        self.upload_codes[response.status_code] += 1
        if response.status_code == 202:
            self.accepted[response.json()["job_id"]] = good

    async def uploader(self, bombs: dict[str, bytes]) -> None:
        n = 0
        while time.monotonic() < self.deadline:
            await self.up.wait()
            n += 1
            good = [(f"good-{n:03d}-a.md", _good(f"a{n}")), (f"good-{n:03d}-b.md", _good(f"b{n}"))]
            bad = [*bombs.items(), (f"junk-{n}.pdf", b"%PDF-1.4 junk"), (f"x{n}.exe", b"MZ")]
            await self.upload([good[0], *bad, good[1]], [g[0] for g in good])
            await self.upload([("y" * 297 + ".md", b"# t\n\nx\n")], [])  # 400: name too long
            await self._chunked_oversize()
            await asyncio.sleep(15)

    async def _chunked_oversize(self) -> None:
        async def body():
            yield b'--b\r\nContent-Disposition: form-data; name="files"; filename="big.md"\r\n\r\n'
            for _ in range(21):
                yield b"x" * MiB
            yield b"\r\n--b--\r\n"

        with contextlib.suppress(httpx.HTTPError):
            async with httpx.AsyncClient(timeout=60) as client:
                response = await client.post(
                    f"{self.url}/admin/collections/soak/documents",
                    content=body(),
                    headers={**AUTH, "Content-Type": "multipart/form-data; boundary=b"},
                )
                self.upload_codes[response.status_code] += 1

    # ---- the end -------------------------------------------------------------------------

    async def lost_uploads(self) -> tuple[int, int, Counter[str]]:
        """Good files of accepted uploads missing from the collection once every job ended."""
        statuses: Counter[str] = Counter()
        async with httpx.AsyncClient(timeout=30) as client:
            for job_id in self.accepted:
                for _ in range(600):
                    job = (await client.get(f"{self.url}/admin/jobs/{job_id}", headers=AUTH)).json()
                    if job.get("status") in ("done", "partial", "failed", None):
                        break
                    await asyncio.sleep(1)
                statuses[str(job.get("status"))] += 1
            listed = await client.get(f"{self.url}/admin/collections/soak/documents", headers=AUTH)
            have = {d["id"] for d in listed.json().get("documents", [])}
        expected = [name for names in self.accepted.values() for name in names]
        return sum(1 for name in expected if name not in have), len(expected), statuses


def _good(tag: str) -> bytes:
    return f"# Notice {tag}\n\nThe {tag} counter opens at 9 am on weekdays.\n".encode()


def _pcm16(path: Path) -> bytes:
    from serving.loadtest import load_pcm16

    return load_pcm16(path)


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def run(minutes: float, rss_growth_mb: float) -> int:
    with tempfile.TemporaryDirectory(prefix="samyu-soak-") as tmp:
        tmp_path = Path(tmp)
        bombs = {
            "bomb.pdf": pdf_bomb(tmp_path / "bomb.pdf", 1024 * MiB).read_bytes(),
            "bomb.docx": zip_bomb(tmp_path / "bomb.docx", 1024 * MiB).read_bytes(),
            "bomb.html": html_bomb(tmp_path / "bomb.html").read_bytes(),
        }
        soak = Soak(tmp_path / "home", minutes)
        started = time.monotonic()
        print(f"soak for {minutes:g} min; load average {os.getloadavg()} at start")
        try:
            await soak.start()
            soak.deadline = time.monotonic() + minutes * 60  # model loading is not soak time
            soak.half = time.monotonic() + minutes * 30
            workers = [
                soak.monitor(),
                soak.caller(0),
                soak.caller(1),
                soak.hostile_socket(),
                soak.uploader(bombs),
                soak.killer(bombs),
            ]
            await asyncio.gather(*workers)
            await soak.up.wait()
            lost, expected, statuses = await soak.lost_uploads()
            await asyncio.sleep(10)  # quiet: sessions closed, jobs finished
            after = soak.rss()
        finally:
            soak.stop()
        leftovers = list((tmp_path / "home" / "uploads").glob("*")) if soak.home.exists() else []
    if soak.processes:
        soak.processes[-1]["last"] = after
    growths = [p["last"] - p["warm"] for p in soak.processes if p["warm"]]
    print(f"wall time {time.monotonic() - started:.0f} s (model loading included)")
    print(f"sessions served: {soak.served}; turns answered: {soak.turns}")
    print(f"hostile sockets: {soak.hostile}")
    print(f"errors by code: {dict(sorted(soak.errors.items()))}")
    print(f"upload responses by status: {dict(sorted(soak.upload_codes.items()))}")
    print(f"jobs: {dict(statuses)}; server restarts (kill -9): {soak.restarts}")
    print(f"lost uploads: {lost} of {expected} good files accepted (must be 0)")
    print(f"spooled upload folders left: {len(leftovers)}")
    print(f"server RSS: peak {soak.peak_rss:.0f} MiB over the run, after {after:.0f} MiB")
    for number, p in enumerate(soak.processes, start=1):
        warm = f"{p['warm']:.0f} MiB" if p["warm"] else "not reached (no turn and job yet)"
        print(
            f"  process {number}: ready {p['ready']:.0f} MiB, warm {warm} (after its first "
            f"answered turn and finished ingest job), last {p['last']:.0f} MiB"
        )
    print(f"  growth past warm: {[round(g) for g in growths]} MiB (bound {rss_growth_mb:.0f})")
    print(f"load average at end {os.getloadavg()} (machine shared with other work)")
    return 0 if lost == 0 and all(g <= rss_growth_mb for g in growths) else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="soak time (default 10)")
    parser.add_argument("--rss-growth-mb", type=float, default=300.0, help="allowed RSS growth")
    args = parser.parse_args()
    sys.exit(asyncio.run(run(args.minutes, args.rss_growth_mb)))


if __name__ == "__main__":
    main()
