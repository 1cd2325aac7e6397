"""The widget end to end in a real browser: Debian's chromium, headless, driven by playwright,
with a fake microphone playing a real speech recording, against a real server on loopback.

The page is a department's page on another origin (its own little web server) that embeds
the widget with one script tag pointing at the samyu server. The test speaks
(hands-free: the server finds the end of the utterance), then types a follow-up, and checks
the captions, the answer's source links and that the answer's audio was played. Screenshots
go to the test's tmp dir, and to $SAMYU_SCREENSHOT_DIR when set (docs/img for the README).
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import subprocess
import threading
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.timeout(600)

DEPARTMENT_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Highways Department</title>
<link rel="icon" href="data:,">
<style>body {{ font: 16px system-ui; margin: 0; background: #eef2f5; }}
header {{ background: #1d3b53; color: #fff; padding: 18px 24px; font-size: 20px; }}
main {{ padding: 24px; max-width: 640px; }}</style></head>
<body><header>Highways Department · 路政署</header>
<main><h1>Street lighting</h1><p>Report a faulty street lamp, or ask our assistant.</p></main>
<script src="{server}/widget.js" data-collection="speech" data-mode="hands_free"></script>
</body></html>"""


@pytest.fixture(scope="module")
def microphone_wav(shared_audio: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real clip as chromium's fake microphone wants it: 16-bit PCM at 48 kHz, with a
    second of silence before (the microphone opens) and after (the VAD end point)."""
    sox = shutil.which("sox")
    assert sox is not None, "sox is missing: scripts/setup.sh installs it"
    out = tmp_path_factory.mktemp("mic") / "question-48k.wav"
    subprocess.run(
        [
            sox,
            str(shared_audio / "0-en.wav"),
            "-r",
            "48000",
            "-b",
            "16",
            "-c",
            "1",
            str(out),
            "pad",
            "1",
            "2.5",
        ],
        check=True,
    )
    return out


@pytest.fixture(scope="module")
def browser(microphone_wav: Path):
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
                f"--use-file-for-fake-audio-capture={microphone_wav}%noloop",
                "--autoplay-policy=no-user-gesture-required",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def department_site(live_server, tmp_path: Path):
    """A department's own web server (another origin) whose page embeds the widget."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text(DEPARTMENT_PAGE.format(server=live_server.url))
    handler = functools.partial(_QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    origin = f"http://127.0.0.1:{server.server_address[1]}"
    # the voice server lets this department's site (and itself) open sessions, as a
    # deployment embedding the widget configures it (server.allowed_origins; default: same
    # origin only)
    limits = live_server.app.state.settings.server
    default = limits.allowed_origins
    limits.allowed_origins = [origin, live_server.url]
    yield origin + "/"
    limits.allowed_origins = default
    server.shutdown()
    thread.join(timeout=5)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


def data(page, name: str) -> str:
    return page.eval_on_selector(".samyu-widget", f"el => el.dataset.{name} || ''")


def shoot(page, tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    page.screenshot(path=str(path))
    assert path.stat().st_size > 10_000
    target = os.environ.get("SAMYU_SCREENSHOT_DIR")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(target) / name)


def test_spoken_question_in_the_embedded_widget(browser, department_site: str, tmp_path) -> None:
    page = browser.new_page(viewport={"width": 1100, "height": 760})
    console: list[str] = []
    page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
    page.goto(department_site)

    widget = page.locator(".samyu-widget")
    talk = page.get_by_role("button", name="Start listening")
    assert talk.is_visible()
    assert page.get_by_role("combobox", name="Language 語言").is_visible()
    assert page.get_by_role("log", name="Conversation captions").count() == 1
    shoot(page, tmp_path, "widget-idle.png")

    talk.click()  # hands-free: the fake microphone starts playing the recording now
    page.wait_for_function(
        "() => Number(document.querySelector('.samyu-widget').dataset.turns) >= 1",
        timeout=300_000,
    )
    captions = page.get_by_role("log", name="Conversation captions")
    you = captions.locator(".turn.you .text").first.inner_text().lower()
    assert "nightfall" in you or "lamps" in you, (you, console)
    answer = captions.locator(".turn.assistant .text").first.inner_text()
    assert answer.strip(), console
    links = captions.locator(".turn.assistant").first.locator("ol.sources li")
    assert links.count() >= 1
    assert "Street lamps after nightfall" in links.all_inner_texts()

    page.wait_for_function(
        "() => Number(document.querySelector('.samyu-widget').dataset.playedBuffers) > 0",
        timeout=60_000,
    )
    assert int(data(page, "playedBuffers")) > 0
    assert widget.get_attribute("data-connected") == "true"
    page.get_by_role("button", name="Stop listening").click()

    # typed fallback in the same session (keyboard only)
    box = page.get_by_role("textbox", name="Type your question")
    box.fill("When are the counters open?")
    box.press("Enter")
    page.wait_for_function(
        "() => Number(document.querySelector('.samyu-widget').dataset.turns) >= 2",
        timeout=300_000,
    )
    second = captions.locator(".turn.assistant").nth(1)
    assert second.inner_text().strip()
    assert "Office opening days" in second.locator("ol.sources li").all_inner_texts()
    shoot(page, tmp_path, "widget-answer.png")
    errors = [line for line in console if line.startswith("error")]
    assert not errors, errors
    page.close()


def test_push_to_talk_with_the_keyboard(browser, department_site: str) -> None:
    page = browser.new_page(viewport={"width": 1100, "height": 760})
    page.goto(department_site)
    page.get_by_role("radio", name="Push to talk").check()
    talk = page.get_by_role("button", name="Hold to talk")
    talk.focus()
    page.keyboard.down("Space")  # held while the recording plays into the microphone
    page.wait_for_function(
        "() => document.querySelector('.samyu-widget').dataset.state === 'listening'",
        timeout=30_000,
    )
    assert talk.get_attribute("aria-pressed") == "true"
    page.wait_for_timeout(9_000)  # 1 s of silence, 6.6 s of speech, then silence
    page.keyboard.up("Space")  # release: end_of_speech, no VAD wait
    assert talk.get_attribute("aria-pressed") == "false"
    page.wait_for_function(
        "() => Number(document.querySelector('.samyu-widget').dataset.turns) >= 1",
        timeout=300_000,
    )
    captions = page.get_by_role("log", name="Conversation captions")
    you = captions.locator(".turn.you .text").first.inner_text().lower()
    assert "nightfall" in you or "lamps" in you, you
    page.wait_for_function(
        "() => Number(document.querySelector('.samyu-widget').dataset.playedBuffers) > 0",
        timeout=60_000,
    )
    page.close()
