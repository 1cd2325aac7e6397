"""Starting real servers on loopback for tests: a free port, and a subprocess that is polled
until it answers and always stopped afterwards."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_process(
    command: Sequence[str],
    ready_url: str,
    log_path: Path,
    *,
    start_timeout_s: float = 120,
    env: Mapping[str, str] | None = None,
) -> Iterator[None]:
    """Run `command` until `ready_url` answers 200; stop it (terminate, then kill) on exit.

    Output goes to a file, not a pipe: a chatty server blocks on a pipe nobody drains.
    """
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            list(command), stdout=log, stderr=subprocess.STDOUT, env=dict(env) if env else None
        )
        try:
            deadline = time.monotonic() + start_timeout_s
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"{command[:3]} exited: {log_path.read_text()[-2000:]}")
                try:
                    if httpx.get(ready_url, timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{command[:3]} did not answer in {start_timeout_s:.0f} s")
                time.sleep(0.5)
            yield
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
