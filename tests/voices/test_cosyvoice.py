"""The CosyVoice server client against a real HTTP server on loopback.

No CosyVoice model is available offline, so the server here is a stand-in: a real HTTP
server speaking CosyVoice's `/inference_sft` protocol (form fields tts_text and spk_id, raw
PCM16 streamed back in odd-sized pieces) whose audio is a tone whose length follows the text.
What is tested is our client: the request, streaming, sample framing and errors. A real
CosyVoice server was not run (docs/speech.md).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar
from urllib.parse import parse_qs

import numpy as np
import pytest

from voices.config import TtsSettings, VoiceChoice
from voices.tts.cosyvoice import CosyVoiceSynthesizer
from voices.tts.espeak import SynthesisError
from voices.tts.registry import VoiceRegistry

RATE = 22050


class _Handler(BaseHTTPRequestHandler):
    requests: ClassVar[list[dict[str, str]]] = []

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", 0))
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
        _Handler.requests.append({"path": self.path, **form})
        if self.path != "/inference_sft" or form.get("spk_id") != "粵語女":
            self.send_response(400)
            self.end_headers()
            self.wfile.write(b"unknown speaker")
            return
        seconds = 0.1 * len(form["tts_text"])
        t = np.arange(int(RATE * seconds)) / RATE
        pcm = (0.3 * np.sin(2 * np.pi * 220 * t) * 32767).astype("<i2").tobytes()
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.end_headers()
        for start in range(0, len(pcm), 1001):  # odd pieces: samples split across reads
            self.wfile.write(pcm[start : start + 1001])
            self.wfile.flush()

    def log_message(self, *args) -> None:  # keep pytest output clean
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def test_sentences_are_streamed_back_as_whole_samples(server: str) -> None:
    voice = CosyVoiceSynthesizer(server, speaker="粵語女", sample_rate=RATE)
    _Handler.requests.clear()
    chunks = list(voice.synthesize("你好。請問入境處幾點開門？", "yue"))
    assert [r["tts_text"] for r in _Handler.requests] == ["你好。", "請問入境處幾點開門？"]
    assert len(chunks) > 2  # streamed, not one blob per sentence
    assert all(len(c.pcm) % 2 == 0 and c.sample_rate == RATE for c in chunks)
    total = sum(len(c.pcm) for c in chunks) // 2
    assert total == int(RATE * 0.3) + int(RATE * 1.0)


def test_a_server_error_is_a_synthesis_error(server: str) -> None:
    voice = CosyVoiceSynthesizer(server, speaker="nobody")
    with pytest.raises(SynthesisError, match="400: unknown speaker"):
        list(voice.synthesize("你好。", "yue"))


def test_an_unreachable_server_is_a_synthesis_error() -> None:
    voice = CosyVoiceSynthesizer("http://127.0.0.1:9", speaker="粵語女", timeout_s=2)
    with pytest.raises(SynthesisError, match="failed"):
        list(voice.synthesize("你好。", "yue"))


def test_configuration_is_checked() -> None:
    with pytest.raises(ValueError, match="http"):
        CosyVoiceSynthesizer("localhost:50000")
    assert not CosyVoiceSynthesizer("http://127.0.0.1:9").supports("en")


def test_the_registry_uses_it_for_yue_and_falls_back_when_unset(server: str) -> None:
    choice = {"yue": VoiceChoice(engine="cosyvoice")}
    registry = VoiceRegistry(
        TtsSettings(voices=choice, cosyvoice_url=server, cosyvoice_speaker="粵語女")
    )
    assert registry.voice("yue").name == "cosyvoice"
    assert list(registry.voice("yue").synthesize("多謝。"))
    unset = VoiceRegistry(TtsSettings(voices=choice))
    assert unset.voice("yue").name == "espeak"
    assert "cosyvoice_url is not set" in unset.fallbacks["yue"]
