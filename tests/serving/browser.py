"""Set-up shared by the browser test modules (test_widget_browser.py, test_widget_cantonese.py):
a real speech clip as chromium's fake microphone, Debian's chromium driven by playwright with
that microphone, and a department's own web site (another origin) embedding the widget.

Each module keeps its own browser (the fake microphone plays its file once per browser) and
its own live server (tests/fixtures_serving.start_live_server), built from these helpers.
"""

from __future__ import annotations

import functools
import http.server
import shutil
import subprocess
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")


def fake_microphone(clip: Path, out: Path) -> Path:
    """`clip` as chromium's fake microphone wants it: 16-bit PCM at 48 kHz, with a second of
    silence before (the microphone opens) and 2.5 s after (the end point)."""
    sox = shutil.which("sox")
    assert sox is not None, "sox is missing: scripts/setup.sh installs it"
    assert clip.exists(), clip
    command = [sox, str(clip), "-r", "48000", "-b", "16", "-c", "1", str(out), "pad", "1", "2.5"]
    subprocess.run(command, check=True)
    return out


@contextmanager
def chromium_with_microphone(microphone: Path) -> Iterator[object]:
    """A headless chromium whose microphone plays `microphone` once (then silence)."""
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium is not installed (scripts/setup.sh installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--use-fake-ui-for-media-stream",
                "--use-fake-device-for-media-stream",
                f"--use-file-for-fake-audio-capture={microphone}%noloop",
                "--autoplay-policy=no-user-gesture-required",
            ],
        )
        try:
            yield browser
        finally:
            browser.close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def department_site(live_server, folder: Path, pages: Mapping[str, str]) -> Iterator[str]:
    """A department's own web server (another origin) serving `pages` (name -> HTML), allowed
    by the voice server as a deployment embedding the widget configures it
    (server.allowed_origins; default: same origin only). Yields the site's root URL."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, html in pages.items():
        (folder / name).write_text(html, encoding="utf-8")
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    origin = f"http://127.0.0.1:{server.server_address[1]}"
    limits = live_server.app.state.settings.server
    default = limits.allowed_origins
    limits.allowed_origins = [origin, live_server.url]
    try:
        yield origin + "/"
    finally:
        limits.allowed_origins = default
        server.shutdown()
        thread.join(timeout=5)
