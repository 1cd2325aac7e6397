"""The widget, the landing page, the operator console and /docs in a real browser: Debian's
chromium, headless, driven by playwright, with a fake microphone playing a real speech
recording, against a real server on loopback. One browser for the whole module.

The department page is on another origin (its own little web server) and embeds the widget
with one script tag pointing at the samyu server: a floating launcher that opens the panel.
The tests speak (hands-free and push-to-talk), type, switch languages (every label follows:
Traditional for 廣東話, Simplified for 普通话, English; Auto follows the caller), check the
waiting state, button states, the phone layout, keyboard-only use, WCAG 2.1 AA with axe-core
(installed by scripts/setup.sh into SAMYU_CACHE), the console, and /docs with the network
blocked. Screenshots go to the test's tmp dir, and to $SAMYU_SCREENSHOT_DIR when set
(docs/img for the README).
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
from pathlib import Path

import pytest

from tests.fixtures_serving import start_live_server
from tests.serving.browser import chromium_with_microphone, fake_microphone
from tests.serving.browser import department_site as department_site_at

AXE_VERSION = "4.11.0"
AXE = (
    Path(os.environ.get("SAMYU_CACHE", "~/.cache/samyu")).expanduser()
    / f"axe-core-{AXE_VERSION}"
    / "axe.min.js"
)
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
pytestmark = pytest.mark.timeout(600)

DEPARTMENT_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Highways Department</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<style>body {{ font: 16px system-ui; margin: 0; background: #eef2f5; }}
header {{ background: #1d3b53; color: #fff; padding: 18px 24px; font-size: 20px; }}
main {{ padding: 24px; max-width: 640px; }}</style></head>
<body><header>Highways Department · 路政署</header>
<main><h1>Street lighting</h1><p>Report a faulty street lamp, or ask our assistant.</p></main>
<script src="{server}/widget.js" data-collection="speech" data-mode="hands_free" {extra}></script>
</body></html>"""


@pytest.fixture(scope="module")
def live_server(serving_home, serving_engines):
    """This module's own server (see tests/fixtures_serving.start_live_server)."""
    yield from start_live_server(serving_home, serving_engines)


@pytest.fixture(scope="module")
def microphone_wav(shared_audio: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real English question (0-en.wav) as chromium's fake microphone plays it."""
    out = tmp_path_factory.mktemp("mic") / "question-48k.wav"
    return fake_microphone(shared_audio / "0-en.wav", out)


@pytest.fixture(scope="module")
def browser(microphone_wav: Path):
    with chromium_with_microphone(microphone_wav) as browser:
        yield browser


@pytest.fixture
def department_site(live_server, tmp_path: Path):
    """A department's own web server (another origin) whose pages embed the widget:
    index.html (with `data-debug`: engineering figures shown) and plain.html (without)."""
    pages = {
        "index.html": DEPARTMENT_PAGE.format(server=live_server.url, extra="data-debug"),
        "plain.html": DEPARTMENT_PAGE.format(server=live_server.url, extra=""),
    }
    with department_site_at(live_server, tmp_path / "site", pages) as url:
        yield url


def data(page, name: str) -> str:
    return page.eval_on_selector(".samyu-widget", f"el => el.dataset.{name} || ''")


def assert_accessible(page, where: str) -> None:
    """axe-core's WCAG 2.1 A and AA rules on the page as it is now (shadow roots included)."""
    assert AXE.exists(), f"{AXE} is missing: scripts/setup.sh installs axe-core"
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_AA
    )
    problems = [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3]) for v in result["violations"]
    ]
    assert not problems, (where, problems)


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
    launcher = page.get_by_role("button", name="Ask a question")  # the page is in English
    assert launcher.is_visible() and launcher.get_attribute("aria-expanded") == "false"
    launcher.click()
    talk = page.get_by_role("button", name="Start listening")
    assert talk.is_visible()
    assert page.get_by_role("combobox", name="Language").is_visible()
    assert page.get_by_role("log", name="Conversation").count() == 1
    shoot(page, tmp_path, "widget-idle.png")

    talk.click()  # hands-free: the fake microphone starts playing the recording now
    page.wait_for_function(
        "() => Number(document.querySelector('.samyu-widget').dataset.turns) >= 1",
        timeout=300_000,
    )
    captions = page.get_by_role("log", name="Conversation")
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
    assert " ms" in second.locator(".meta.debug").inner_text()  # data-debug: figures shown
    shoot(page, tmp_path, "widget-department.png")
    errors = [line for line in console if line.startswith("error")]
    assert not errors, errors
    page.close()


def test_push_to_talk_with_the_keyboard(browser, department_site: str) -> None:
    page = browser.new_page(viewport={"width": 1100, "height": 760})
    page.goto(department_site)
    page.get_by_role("button", name="Ask a question").click()
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
    captions = page.get_by_role("log", name="Conversation")
    you = captions.locator(".turn.you .text").first.inner_text().lower()
    assert "nightfall" in you or "lamps" in you, you
    page.wait_for_function(
        "() => Number(document.querySelector('.samyu-widget').dataset.playedBuffers) > 0",
        timeout=60_000,
    )
    page.close()


# Texts of the interface in each language (a few of each: the button, send, the status).
LABELS = {
    "yue": {"talk": "按住講嘢", "listen": "開始聆聽", "send": "送出", "language": "語言"},
    "cmn": {"talk": "按住说话", "listen": "开始聆听", "send": "发送", "language": "语言"},
    "en": {
        "talk": "Hold to talk",
        "listen": "Start listening",
        "send": "Send",
        "language": "Language",
    },
}
BOX = {"yue": "輸入你嘅問題", "cmn": "输入你的问题", "en": "Type your question"}
WAIT_WATCHER = """() => {
  const host = document.querySelector('.samyu-widget');
  window.seenWaits = [];
  new MutationObserver(() => {
    const wait = host.dataset.wait;
    if (wait && !window.seenWaits.includes(wait)) window.seenWaits.push(wait);
  }).observe(host, {attributes: true, attributeFilter: ['data-wait']});
}"""


def assert_labels(page, language: str) -> None:
    labels = LABELS[language]
    assert data(page, "uiLanguage") == language
    talk = page.get_by_role("button", name=labels["talk"], exact=True)
    listen = page.get_by_role("button", name=labels["listen"], exact=True)
    assert talk.or_(listen).is_visible()  # push-to-talk or hands-free
    assert page.get_by_role("button", name=labels["send"], exact=True).is_visible()
    assert page.get_by_role("combobox", name=labels["language"]).is_visible()
    assert page.get_by_role("textbox", name=BOX[language]).is_visible()


def test_landing_page_speaks_the_callers_language(browser, live_server, tmp_path) -> None:
    """The citizen's landing page: Traditional Chinese first (Auto), follows the caller to
    English, waits visibly, shows no engineering figures, and every label changes with the
    language chosen. The answer it gets is the README's screenshot."""
    page = browser.new_page(viewport={"width": 1100, "height": 800})
    console: list[str] = []
    page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
    page.goto(live_server.url + "/")
    assert "ws/talk" not in page.content() and "<script src=" not in page.inner_text("body")
    assert_labels(page, "yue")  # Auto on a zh-HK page: Traditional Chinese
    assert_accessible(page, "landing page")

    page.evaluate(WAIT_WATCHER)
    box = page.get_by_role("textbox", name=BOX["yue"])
    box.fill("How much does it cost to replace a lost identity card?")
    box.press("Enter")
    page.wait_for_function(
        "() => Number(document.querySelector('.samyu-widget').dataset.turns) >= 1",
        timeout=300_000,
    )
    assert "searching" in page.evaluate("window.seenWaits"), console  # a visible waiting state
    assert_labels(page, "en")  # Auto followed the caller into English
    captions = page.get_by_role("log", name="Conversation")
    answer = captions.locator(".turn.assistant .text").first.inner_text()
    assert "370" in answer, answer  # HK$370: the demo corpus's fee
    sources = captions.locator(".turn.assistant").first.locator("ol.sources li")
    assert sources.count() >= 1
    assert not captions.locator(".meta.debug").count()  # no figures for citizens
    assert " ms" not in captions.inner_text()
    page.wait_for_function(
        "() => Number(document.querySelector('.samyu-widget').dataset.playedBuffers) > 0"
        " && document.querySelector('.samyu-widget').dataset.state === 'idle'",
        timeout=120_000,
    )
    assert page.get_by_role("button", name="Stop answer").is_disabled()  # playback is over
    shoot(page, tmp_path, "widget-answer.png")

    language = page.get_by_role("combobox", name="Language")
    language.select_option("cmn")
    assert_labels(page, "cmn")
    assert page.get_by_role("button", name="停止回答").is_disabled()
    page.get_by_role("combobox", name="语言").select_option("yue")
    assert_labels(page, "yue")
    assert (
        page.locator(".samyu-widget").evaluate("el => el.shadowRoot.querySelector('.panel').lang")
        == "zh-HK"
    )
    assert_accessible(page, "landing page after an answer")
    errors = [line for line in console if line.startswith("error")]
    assert not errors, errors
    page.close()


PLAYBACK_LOG = re.compile(r"session (\S+) turn (\d+) playback: sentence (\d+), (\d+) ms")


@pytest.mark.slow
def test_the_widget_reports_what_the_caller_heard(browser, live_server, caplog) -> None:
    """While an answer plays the widget sends `playback` reports (sentences heard, ms played
    on the AudioContext clock): the server receives them with played_ms increasing, and the
    last one, at the end of playback, counts all the answer's audio and sentences."""
    caplog.set_level(logging.DEBUG, logger="samyu.talk")
    page = browser.new_page(viewport={"width": 1100, "height": 800})
    received: list[dict | int] = []  # server frames as the browser got them (audio: bytes)

    def on_frame(payload: str | bytes) -> None:
        received.append(json.loads(payload) if isinstance(payload, str) else len(payload))

    page.on("websocket", lambda ws: ws.on("framereceived", on_frame))
    page.goto(live_server.url + "/")
    box = page.get_by_role("textbox", name=BOX["yue"])
    box.fill("How much does it cost to replace a lost identity card?")
    box.press("Enter")
    page.wait_for_function(
        "() => { const d = document.querySelector('.samyu-widget').dataset;"
        " return Number(d.turns) >= 1 && Number(d.playedBuffers) > 0 && d.state === 'idle'; }",
        timeout=300_000,
    )
    session, sent = data(page, "sessionId"), int(data(page, "playbackReports"))

    def reports() -> list[tuple[int, int, int]]:
        found = [PLAYBACK_LOG.search(r.getMessage()) for r in caplog.records]
        return [(int(m[2]), int(m[3]), int(m[4])) for m in found if m and m[1] == session]

    for _ in range(100):  # the last report may still be on its way to the server
        if len(reports()) >= sent:
            break
        page.wait_for_timeout(100)
    heard = reports()
    assert len(heard) == sent >= 3, (heard, sent)
    assert {turn for turn, _, _ in heard} == {1}
    played = [ms for _, _, ms in heard]
    assert played == sorted(played) and len(set(played)) >= 3, played
    sentences = [n for _, n, _ in heard]
    assert sentences == sorted(sentences), sentences

    frames = [f for f in received if isinstance(f, int) or f.get("turn_id") in (None, 1)]
    starts = [f for f in frames if isinstance(f, dict) and f["type"] == "audio_start"]
    rate = starts[0]["sample_rate"]
    audio_ms = sum(f for f in frames if isinstance(f, int)) / 2 / rate * 1000
    assert abs(played[-1] - audio_ms) < 50, (played[-1], audio_ms)  # played to the end
    marks = [f["sentence"] for f in frames if isinstance(f, dict) and f["type"] == "audio_mark"]
    assert marks and sentences[-1] == max(marks), (sentences, marks)
    metrics = page.request.get(live_server.url + "/metrics").text()
    total = re.search(r"^samyu_playback_reports_total ([0-9.]+)$", metrics, re.M)
    assert total and float(total[1]) >= sent

    # the next answer stopped while it plays: a last report says how far the caller heard
    box = page.get_by_role("textbox", name=BOX["en"])  # Auto followed the caller
    box.fill("How much does it cost to replace a lost identity card?")
    box.press("Enter")
    page.wait_for_function(
        "n => { const d = document.querySelector('.samyu-widget').dataset;"
        " return d.state === 'speaking' && Number(d.playbackReports) >= n; }",
        arg=sent + 2,
        timeout=300_000,
    )
    page.get_by_role("button", name="Stop answer").click()
    stopped = int(data(page, "playbackReports"))
    for _ in range(100):
        if len(reports()) >= stopped:
            break
        page.wait_for_timeout(100)
    second = [ms for turn, _, ms in reports() if turn == 2]
    assert len(second) >= 3 and second == sorted(second), second
    at = next(i for i, f in enumerate(received) if isinstance(f, dict) and f.get("turn_id") == 2)
    sent_ms = sum(f for f in received[at:] if isinstance(f, int)) / 2 / rate * 1000
    assert 0 < second[-1] < sent_ms - 100, (second, sent_ms)  # stopped before its end
    page.close()


WAIT_TEXT_WATCHER = """() => {
  const root = document.querySelector('.samyu-widget').shadowRoot;
  window.seenWaitTexts = [];
  new MutationObserver(() => {
    for (const node of root.querySelectorAll('.waiting .wait-text')) {
      const text = node.textContent;
      if (text && !window.seenWaitTexts.includes(text)) window.seenWaitTexts.push(text);
    }
  }).observe(root, {subtree: true, childList: true, characterData: true});
}"""


def test_the_holding_phrase_is_shown_while_it_is_said(
    browser, live_server, assistant_settings, monkeypatch
) -> None:
    """A slow model makes the server say a holding phrase (`holding` frame, spoken before the
    answer): the widget shows its text where the waiting state is, in its language, and the
    answer text replaces it. Every turn is slow enough here: the threshold is ~0."""
    monkeypatch.setattr(assistant_settings, "acknowledge_after_s", 0.001)
    page = browser.new_page(viewport={"width": 1100, "height": 800})
    holding: list[dict] = []

    def on_frame(payload: str | bytes) -> None:
        if isinstance(payload, str) and (frame := json.loads(payload))["type"] == "holding":
            holding.append(frame)

    page.on("websocket", lambda ws: ws.on("framereceived", on_frame))
    page.goto(live_server.url + "/")
    page.get_by_role("combobox", name=LABELS["yue"]["language"]).select_option("yue")
    page.evaluate(WAIT_TEXT_WATCHER)
    box = page.get_by_role("textbox", name=BOX["yue"])
    box.fill("換身份證要幾多錢？")
    box.press("Enter")
    page.wait_for_function(  # the answer's first words (the rest need not be spoken here)
        "() => { const t = document.querySelector('.samyu-widget').shadowRoot"
        ".querySelector('.turn.assistant .text'); return t && t.textContent.trim() !== ''; }",
        timeout=300_000,
    )
    assert len(holding) == 1, holding
    said = holding[0]["text"]
    assert holding[0]["language"] == "yue" and said.strip()
    assert said in page.evaluate("window.seenWaitTexts")  # shown while it was said
    assert data(page, "holding") == said
    answer = page.get_by_role("log", name="對話").locator(".turn.assistant").first
    assert said not in answer.locator(".text").inner_text()  # not part of the answer
    assert not answer.locator(".waiting").count()  # replaced by the answer
    page.close()


def test_phone_launcher_full_screen_and_keyboard_only(
    browser, department_site: str, live_server, tmp_path
) -> None:
    phone = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True}
    page = browser.new_page(**phone)
    page.goto(department_site + "plain.html")
    launcher = page.get_by_role("button", name="Ask a question")
    box = launcher.bounding_box()
    assert box and box["x"] + box["width"] <= 390 and box["y"] + box["height"] <= 844
    assert box["y"] > 844 / 2  # a floating button at the bottom, the page stays readable

    page.keyboard.press("Tab")  # keyboard only from here
    assert launcher.evaluate("el => el.getRootNode().activeElement === el")
    page.keyboard.press("Enter")
    panel = page.get_by_role("dialog", name="Ask about government services")
    assert panel.bounding_box() == {"x": 0, "y": 0, "width": 390, "height": 844}
    talk = page.get_by_role("button", name="Start listening")
    assert talk.evaluate("el => el.getRootNode().activeElement === el")  # focus moved in
    shoot(page, tmp_path, "widget-phone.png")
    assert_accessible(page, "phone, panel open")

    # back to the language choice, by keyboard (the radio group is one stop)
    def focused() -> str:
        return page.locator(".samyu-widget").evaluate(
            "el => { const a = el.shadowRoot.activeElement; return a ? a.id || a.className : ''; }"
        )

    for _ in range(2):
        page.keyboard.press("Shift+Tab")
    assert focused() == "samyu-lang"
    page.keyboard.press("ArrowDown")  # Auto -> 廣東話
    assert_labels(page, "yue")
    for _ in range(4):  # Tab on: the mode, talk (Stop answer is disabled), the captions
        page.keyboard.press("Tab")
    assert focused() == "samyu-text"
    page.keyboard.type("辦公時間係幾點？")
    page.keyboard.press("Enter")
    page.wait_for_function(
        "() => document.querySelector('.samyu-widget').dataset.state === 'thinking'",
        timeout=60_000,
    )
    stop = page.get_by_role("button", name="停止回答")
    assert stop.is_enabled()  # an answer is on its way: it can be stopped
    stop.focus()
    page.keyboard.press("Enter")
    page.wait_for_function(
        "() => document.querySelector('.samyu-widget').dataset.state !== 'thinking'",
        timeout=60_000,
    )
    assert stop.is_disabled()
    assert focused() == "primary talk"  # the focus is not dropped with the disabled button
    page.keyboard.press("Escape")
    assert data(page, "open") == "false"
    launcher = page.get_by_role("button", name="查詢")  # in the language chosen
    assert launcher.evaluate("el => el.getRootNode().activeElement === el")
    page.close()

    landing = browser.new_page(**phone)
    landing.goto(live_server.url + "/")
    talk = landing.get_by_role("button", name=LABELS["yue"]["talk"])
    top = talk.bounding_box()
    assert top and top["y"] < 300  # the widget comes first on a phone, not half-way down
    landing.close()


def test_operator_console(browser, live_server, tmp_path) -> None:
    from tests.fixtures_serving import ADMIN_TOKEN

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(live_server.url + "/console.html")
    page.get_by_label("Admin token").fill(ADMIN_TOKEN)
    page.get_by_role("button", name="Connect").click()
    page.get_by_role("status").filter(has_text="Connected").wait_for(timeout=30_000)
    page.get_by_label("Collection").select_option("demo")
    page.get_by_label("Question", exact=True).fill("護照費用幾多錢？")
    page.get_by_label("BM25 weight").fill("0.5")
    page.get_by_role("button", name="Run").click()
    hits = page.locator("#query-result tbody tr")
    hits.first.wait_for(timeout=60_000)
    assert "passport" in page.locator("#query-result").inner_text().lower()
    assert "fused" in hits.first.inner_text() and "gives" in hits.first.inner_text()
    shoot(page, tmp_path, "console.png")

    page.get_by_label("Questions, JSONL").fill(
        '{"query": "How much is a passport?", "relevant": ["en/passport-fees.md"], '
        '"language": "en"}\n{"query": "zzz qqq", "relevant": ["en/etax.md"], "language": "en"}'
    )
    page.get_by_role("button", name="Evaluate").click()
    page.locator("#eval-result h3").wait_for(timeout=60_000)
    assert "misses" in page.locator("#eval-result h3").inner_text()

    page.get_by_role("button", name="Show report").click()
    page.locator("#report-result h3").first.wait_for(timeout=30_000)
    report = page.locator("#report-result").inner_text()
    assert "never retrieved" in report and "Outcomes by language" in report
    page.get_by_role("button", name="Files and language-version check").click()
    page.locator("#files-result h3").wait_for(timeout=30_000)
    assert "faq.csv" in page.locator("#files-result").inner_text()
    assert_accessible(page, "operator console")
    page.close()


def test_api_docs_load_with_the_network_blocked(browser, live_server) -> None:
    page = browser.new_page()
    outside: list[str] = []

    def only_loopback(route) -> None:
        if route.request.url.startswith(live_server.url):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", only_loopback)
    page.goto(live_server.url + "/docs")
    page.locator(".swagger-ui .info .title").wait_for(timeout=30_000)
    assert "samyu" in page.locator(".swagger-ui .info .title").inner_text()
    assert page.get_by_text("/admin/collections/{name}/documents").first.is_visible()
    page.goto(live_server.url + "/redoc")
    page.locator("h1").filter(has_text="samyu").wait_for(timeout=30_000)
    assert not outside, outside
    page.close()
