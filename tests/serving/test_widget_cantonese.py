"""A Cantonese caller in the widget's Auto mode, end to end in a real browser.

Debian's chromium (headless, playwright) with a fake microphone playing real Cantonese speech
(the natural Cantonese clip of bench/data/speech: SPPAS `yeung.wav`, a read sentence), against
a real server on loopback, with the language selector left on Auto. The caller must be heard
as Cantonese (the caption's language is zh-HK, i.e. `yue`) although nobody said so, answered in
Traditional (HK) script, and the answer must be played. The browser, the microphone and the
department's site come from tests/serving/browser.py, shared with test_widget_browser.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.fixtures_serving import start_live_server
from tests.serving.browser import chromium_with_microphone, department_site, fake_microphone
from voices.language import has_han, to_script

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
def cantonese_browser(tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("mic-yue") / "cantonese-48k.wav"
    with chromium_with_microphone(fake_microphone(CANTONESE_CLIP, out)) as browser:
        yield browser


@pytest.fixture
def cantonese_site(live_server, tmp_path: Path):
    page = DEPARTMENT_PAGE.format(server=live_server.url)
    with department_site(live_server, tmp_path / "site", {"index.html": page}) as url:
        yield url


def test_a_cantonese_caller_in_auto_mode_is_answered_in_cantonese(
    cantonese_browser, cantonese_site: str
) -> None:
    page = cantonese_browser.new_page(viewport={"width": 1100, "height": 760})
    console: list[str] = []
    page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
    heard_frames: list[str] = []  # what the server said it heard (shown if no turn comes)
    page.on(
        "websocket",
        lambda ws: ws.on(
            "framereceived",
            lambda p: heard_frames.append(p) if isinstance(p, str) and '"transcript"' in p else 0,
        ),
    )
    page.goto(cantonese_site)
    # the page is in Cantonese, so the widget speaks it: launcher 查詢, language 語言, 開始聆聽
    page.get_by_role("button", name="查詢").click()
    selector = page.get_by_role("combobox", name="語言")
    assert selector.input_value() == "auto"  # nobody tells the server the language

    page.get_by_role("button", name="開始聆聽").click()
    try:
        page.wait_for_function(
            "() => Number(document.querySelector('.samyu-widget').dataset.turns) >= 1",
            timeout=300_000,
        )
    except PlaywrightTimeout:
        pytest.fail(f"no turn; the server heard {heard_frames}; console {console}")
    captions = page.get_by_role("log", name="對話")
    caller = captions.locator(".turn.you").first
    assert caller.get_attribute("lang") == "zh-HK", (caller.inner_text(), console)  # yue
    heard = caller.locator(".text").inner_text()
    assert has_han(heard), heard
    # HK Traditional (經驗, 聽, 樂), and written so that Simplified would differ: not a text
    # that reads the same in both scripts
    assert to_script(heard, "yue") == heard != to_script(heard, "cmn"), heard

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
