"""A Cantonese caller in the widget's Auto mode, end to end in a real browser.

Debian's chromium (headless, playwright) with a fake microphone playing real Cantonese speech
(the natural Cantonese clip of bench/data/speech: SPPAS `yeung.wav`, a read sentence), against
a real server on loopback, with the language selector left on Auto. The caller must be heard
as Cantonese (the caption's language is zh-HK, i.e. `yue`) although nobody said so, answered in
Traditional (HK) script, and the answer must be played. The pattern is the one of
test_widget_browser.py (fixtures copied, not shared, so either file can change alone).
"""

from __future__ import annotations

import functools
import http.server
import shutil
import subprocess
import threading
from pathlib import Path

import pytest

from tests.fixtures_serving import start_live_server
from voices.language import has_han, to_script

CHROMIUM = Path("/usr/bin/chromium")
CANTONESE_CLIP = (
    Path(__file__).resolve().parents[2]
    / "bench"
    / "data"
    / "speech"
    / "clips"
    / "yue-sppas-yeung.flac"
)
pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

DEPARTMENT_PAGE = """<!doctype html>
<html lang="zh-HK"><head><meta charset="utf-8"><title>勞工處</title>
<link rel="icon" href="data:,"></head>
<body><main><h1>就業服務</h1><p>有問題可以問我哋嘅助理。</p></main>
<script src="{server}/widget.js" data-collection="speech" data-mode="hands_free"></script>
</body></html>"""


@pytest.fixture(scope="module")
def live_server(serving_home, serving_engines):
    """This module's own server (see tests/fixtures_serving.start_live_server)."""
    yield from start_live_server(serving_home, serving_engines)


@pytest.fixture(scope="module")
def cantonese_microphone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Cantonese clip as chromium's fake microphone wants it (16-bit, 48 kHz, padded)."""
    sox = shutil.which("sox")
    assert sox is not None, "sox is missing: scripts/setup.sh installs it"
    assert CANTONESE_CLIP.exists(), "the speech evaluation set ships with the project"
    out = tmp_path_factory.mktemp("mic-yue") / "cantonese-48k.wav"
    subprocess.run(
        [sox, str(CANTONESE_CLIP), "-r", "48000", "-b", "16", "-c", "1", str(out),
         "pad", "1", "2.5"],
        check=True,
    )  # fmt: skip
    return out


@pytest.fixture(scope="module")
def cantonese_browser(cantonese_microphone: Path):
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium is not installed (scripts/setup.sh installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run",
                "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                f"--use-file-for-fake-audio-capture={cantonese_microphone}%noloop",
                "--autoplay-policy=no-user-gesture-required",
            ],
        )  # fmt: skip
        yield browser
        browser.close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def cantonese_site(live_server, tmp_path: Path):
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text(DEPARTMENT_PAGE.format(server=live_server.url), "utf-8")
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(site))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    origin = f"http://127.0.0.1:{server.server_address[1]}"
    # the department's site is another origin: the voice server must allow it (default: same
    # origin only), as a deployment embedding the widget configures server.allowed_origins
    limits = live_server.app.state.settings.server
    default = limits.allowed_origins
    limits.allowed_origins = [origin, live_server.url]
    yield origin + "/"
    limits.allowed_origins = default
    server.shutdown()
    thread.join(timeout=5)


def test_a_cantonese_caller_in_auto_mode_is_answered_in_cantonese(
    cantonese_browser, cantonese_site: str
) -> None:
    page = cantonese_browser.new_page(viewport={"width": 1100, "height": 760})
    console: list[str] = []
    page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
    page.goto(cantonese_site)
    # the page is in Cantonese, so the widget speaks it: launcher 查詢, language 語言, 開始聆聽
    page.get_by_role("button", name="查詢").click()
    selector = page.get_by_role("combobox", name="語言")
    assert selector.input_value() == "auto"  # nobody tells the server the language

    page.get_by_role("button", name="開始聆聽").click()
    page.wait_for_function(
        "() => Number(document.querySelector('.samyu-widget').dataset.turns) >= 1",
        timeout=400_000,
    )
    captions = page.get_by_role("log", name="對話")
    caller = captions.locator(".turn.you").first
    assert caller.get_attribute("lang") == "zh-HK", (caller.inner_text(), console)  # yue
    heard = caller.locator(".text").inner_text()
    assert "樂" in heard, heard  # Traditional script: 樂, not 乐

    answer_turn = captions.locator(".turn.assistant").first
    assert answer_turn.get_attribute("lang") == "zh-HK", console
    answer = answer_turn.locator(".text").inner_text().strip()
    assert has_han(answer), answer
    assert to_script(answer, "yue") == answer, answer  # already HK Traditional
    page.wait_for_function(
        "() => Number(document.querySelector('.samyu-widget').dataset.playedBuffers) > 0",
        timeout=120_000,
    )
    errors = [line for line in console if line.startswith("error")]
    assert not errors, errors
    page.close()
