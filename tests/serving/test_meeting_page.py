"""The meeting review page in a real browser (Debian chromium, headless, playwright) against a
real server: list, open, speaker colours, seek the recording by clicking a time, rename a
speaker, correct a segment, export. The meeting record is written to the store directly (its
transcription is tested in test_meetings.py), with a real recording kept beside it."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from serving.app import create_app
from serving.meeting_store import MeetingStore, new_record
from tests.fixtures_serving import run_live_server
from tests.meeting_audio import CLIPS
from tests.serving.conftest import ADMIN, admin_settings

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

SEGMENTS = [
    (0.4, 2.3, "S1", "en", "And so my fellow Americans,"),
    (3.3, 7.7, "S2", "en", "ask not what your country can do for you,"),
    (8.3, 10.7, "S1", "en", "ask what you can do for your country."),
]


@pytest.fixture
def server(demo_kb, tmp_path: Path):
    settings = admin_settings(demo_kb.settings.home)
    settings.meetings.folder = tmp_path / "meetings"
    settings.meetings.keep_audio = True
    store = MeetingStore(tmp_path / "meetings" / "records")
    record = new_record("demo", "Inaugural", "jfk.flac")
    segments = [
        {
            "id": n,
            "start": s,
            "end": e,
            "speaker": who,
            "language": lang,
            "text": text,
            "words": [],
            "overlap": False,
        }
        for n, (s, e, who, lang, text) in enumerate(SEGMENTS)
    ]
    record.update(
        status="done",
        audio="audio.flac",
        transcript={
            "segments": segments,
            "speakers": ["S1", "S2"],
            "duration_s": 11.0,
            "languages": {"en": 8.8},
            "diarizer": "embedded-ge2e",
            "elapsed_s": 1.0,
        },
    )
    store.save(record)
    shutil.copy(CLIPS / "jfk.flac", store.path(record["id"]) / "audio.flac")
    for live in run_live_server(create_app(settings)):
        yield live, store, record["id"]


def test_review_a_meeting_in_the_browser(server, tmp_path: Path) -> None:
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium is not installed (scripts/setup.sh installs it)")
    from playwright.sync_api import sync_playwright

    live, store, meeting_id = server
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--autoplay-policy=no-user-gesture-required"],
        )
        page = browser.new_page(viewport={"width": 1100, "height": 760}, accept_downloads=True)
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(f"{live.url}/meeting.html")
        page.fill("#token", ADMIN)
        page.fill("#collection", "demo")
        page.click("#refresh")
        page.click("#meetings li")
        page.wait_for_selector(".segment >> nth=2")
        colours = page.eval_on_selector_all(
            ".who", "els => els.map(e => getComputedStyle(e).borderLeftColor)"
        )
        assert colours[0] == colours[2] != colours[1]

        page.wait_for_function("!document.getElementById('audio').hidden")
        page.wait_for_function("document.getElementById('audio').readyState >= 1")
        page.click(".segment >> nth=2 >> .time")
        page.wait_for_function("document.getElementById('audio').currentTime >= 8.2")

        page.once("dialog", lambda dialog: dialog.accept("President Kennedy"))
        page.click(".chip >> nth=0")
        page.wait_for_selector(".who:has-text('President Kennedy')")

        text = page.locator(".segment >> nth=1 >> .text")
        text.click()
        text.fill("ask not what your country can do for you.")
        page.click("#m-title")  # blur saves
        page.wait_for_selector("#status:has-text('Saved')")
        saved = store.load(meeting_id)["transcript"]
        assert saved["segments"][1]["text"] == "ask not what your country can do for you."
        assert saved["segments"][0]["speaker"] == "President Kennedy"

        with page.expect_download() as download:
            page.click("[data-export=md]")
        exported = Path(download.value.path()).read_text(encoding="utf-8")
        assert "**[00:00:08] President Kennedy**: ask what you can do" in exported
        shot = tmp_path / "meeting-page.png"
        page.screenshot(path=str(shot))
        if os.environ.get("SAMYU_SCREENSHOT_DIR"):  # docs/img for docs/meetings.md
            shutil.copy(shot, Path(os.environ["SAMYU_SCREENSHOT_DIR"]) / shot.name)
        assert not errors, errors
        browser.close()
