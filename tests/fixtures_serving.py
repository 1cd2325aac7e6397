"""Session fixtures of the serving package: the real engines loaded once, and a real server.

`serving_engines` builds the voice server's `Engines` from the voices package's session models
(Whisper base, Silero VAD) plus Smart Turn v3, the embedded LLM and the voice registry, over
the session's demo knowledge base, to which a small `speech` collection is added whose
documents answer what the real speech fixtures say (so a spoken turn finds sources and is
not redirected).
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from serving.settings import AdminToken, Settings

# Documents about what the shared speech clips say (0-en.wav, 1-zh.wav, 2-zh-en.wav).
SPEECH_DOCS = {
    "street-lamps.md": (
        "# Street lamps after nightfall\n\n"
        "After early nightfall the yellow street lamps light up here and there across the old "
        "quarter. The Highways Department maintains the lamps of every quarter; a lamp that "
        "does not light up after nightfall can be reported to the 1823 hotline.\n"
    ),
    "financial-turbulence.md": (
        "# 全球金融動盪\n\n這一輪全球金融動盪的表現主要有三個問題：股市大幅波動、資金外流、"
        "以及借貸成本上升。政府會密切留意金融動盪對香港的影響。\n"
    ),
    "office-days.md": (
        "# Office opening days\n\nOur counters are open on Monday (星期一), Tuesday and "
        "Wednesday (星期三). Yesterday was Monday means today is Tuesday: the counters are open "
        "from 9 am to 5 pm from Monday to Wednesday.\n"
    ),
}
ADMIN_TOKEN = "serving-admin-token"


@pytest.fixture(scope="session")
def serving_home(demo_kb, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """SAMYU_HOME with the `demo` collection (shared) and the `speech` collection."""
    folder = tmp_path_factory.mktemp("speech-docs")
    for name, text in SPEECH_DOCS.items():
        (folder / name).write_text(text, encoding="utf-8")
    report = demo_kb.collection("speech").ingest([folder])
    assert report.ok, report
    return demo_kb.settings.home


@pytest.fixture(scope="session")
def serving_engines(
    serving_home: Path, demo_kb, transcriber, vad_model, assistant_settings, embedded_generator
):
    """Engines of the voice server, built once per test session from the models the voices
    and assistant fixtures already loaded (Whisper, VAD, the embedded LLM)."""
    from assistant.turn import Assistant
    from serving.runtime import Engines
    from voices.config import VoiceSettings
    from voices.tts.registry import VoiceRegistry

    voices = VoiceRegistry(VoiceSettings(cache=assistant_settings.cache).tts)
    assistant = Assistant.from_settings(
        assistant_settings,
        demo_kb,
        generator=embedded_generator,
        transcriber=transcriber,
        voice_for=voices.voice,
    )
    from voices.turn_detection import shared_turn_model

    # as shipped: the semantic end of turn (Smart Turn v3) beside the VAD
    return Engines(transcriber, vad_model, assistant, voices, turn_detector=shared_turn_model())


def serving_settings(home: Path, **server: object) -> Settings:
    """Settings of a test server over `home` (collections already there: nothing seeded)."""
    settings = Settings(home=home)
    settings.server.seed_collections = {}
    settings.server.admin_tokens = [AdminToken(token=ADMIN_TOKEN)]
    # every test client comes from one address: per-IP limits only where a test sets them
    settings.server.max_sessions_per_ip = 1000
    settings.server.connects_per_minute_per_ip = 100_000
    for key, value in server.items():
        setattr(settings.server, key, value)
    return settings


@dataclass
class LiveServer:
    url: str  # http://127.0.0.1:PORT
    app: object

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://") + "/ws/talk"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_live_server(app: object) -> Iterator[LiveServer]:
    """A real uvicorn on loopback in a background thread (stopped on exit)."""
    import uvicorn

    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield LiveServer(f"http://127.0.0.1:{port}", app)
    finally:
        server.should_exit = True
        thread.join(timeout=15)


@pytest.fixture(scope="session")
def live_server(serving_home: Path, serving_engines) -> Iterator[LiveServer]:
    """One real server for the load and hostile tests (default limits, 16 sessions)."""
    yield from start_live_server(serving_home, serving_engines)


def start_live_server(serving_home: Path, serving_engines) -> Iterator[LiveServer]:
    """A real server over the shared models and collections (default limits, 16 sessions).

    Browser test modules start their own (module scope): sockets that other modules' hostile
    and load tests leave to the idle timeout cannot then hold the session slots they need."""
    from serving.app import create_app

    settings = serving_settings(serving_home, max_sessions=16)
    # the widget asks the default collection when its page names none: the first seed one,
    # `demo` as in `make serve` (the landing page asks it); department pages name `speech`
    settings.server.seed_collections = {
        name: serving_home / "collections" / name for name in ("demo", "speech")
    }
    app = create_app(settings, engines=serving_engines)
    yield from run_live_server(app)
