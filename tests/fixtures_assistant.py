"""Session fixtures of the assistant package (real models and servers, loaded once).

- `assistant_kb`: a real KnowledgeBase (USE embedder, FAISS + BM25) with a small corpus taken
  from the demo corpus (passport fees and ID card replacement in English and Chinese, driving
  licence renewal, and the hostile notice board) ingested once into collection `mini`.
- `embedded_generator`: the real embedded Qwen2.5-Coder-0.5B through llama-cpp-python.
- `llama_server`: the real OpenAI-compatible server (`python -m llama_cpp.server`, through
  `assistant.llama_server`, which only adds the extra-buffer workaround) on loopback.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.config import AssistantSettings
from tests.servers import free_port, running_process

DEMO_CORPUS = Path(__file__).resolve().parent.parent / "knowledge_base" / "demo_corpus"
MINI_CORPUS = [
    "en/passport-fees.md",
    "zh-hant/passport-fees.md",
    "en/id-card-replacement.md",
    "zh-hant/id-card-replacement.md",
    "en/driving-licence-renewal.md",
    "en/notice-board.md",  # carries a prompt injection aimed at assistants
]


@pytest.fixture(scope="session")
def assistant_settings() -> AssistantSettings:
    cache = Path(os.environ.get("SAMYU_CACHE", "~/.cache/samyu")).expanduser()
    # speed is measured by bench/, not by tests: a busy CPU must not turn the real model's
    # answers into timeouts (the default gives up after 10 s, then quotes the sources); nor
    # into holding phrases ("Sure, let me check."): tests of that set acknowledge_after_s
    return AssistantSettings(cache=cache, first_token_timeout_s=120.0, acknowledge_after_s=None)


@pytest.fixture(scope="session")
def assistant_kb(tmp_path_factory: pytest.TempPathFactory):
    from knowledge_base import KnowledgeBase, KnowledgeBaseSettings

    # the demo corpus ships with the project: a missing file is a failure, not a skip
    assert all((DEMO_CORPUS / name).exists() for name in MINI_CORPUS)
    corpus = tmp_path_factory.mktemp("assistant-corpus")
    for name in MINI_CORPUS:
        (corpus / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(DEMO_CORPUS / name, corpus / name)
    kb = KnowledgeBase(KnowledgeBaseSettings(home=tmp_path_factory.mktemp("assistant-kb")))
    report = kb.collection("mini").ingest([corpus])
    assert report.count("added") == len(MINI_CORPUS)
    return kb


@pytest.fixture(scope="session")
def embedded_generator(assistant_settings: AssistantSettings):
    from assistant.generators.llama_cpp import build_llama_cpp_generator

    return build_llama_cpp_generator(assistant_settings)


@pytest.fixture(scope="session")
def assistant(assistant_settings: AssistantSettings, assistant_kb, embedded_generator):
    """The turn API over the mini collection with the embedded model (no speech)."""
    from assistant.turn import Assistant

    return Assistant.from_settings(assistant_settings, assistant_kb, generator=embedded_generator)


@pytest.fixture(scope="session")
def llama_server(
    assistant_settings: AssistantSettings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """Base URL (…/v1) of a real llama_cpp.server serving the embedded GGUF as `qwen`."""
    from assistant.models import embedded_model_path

    port = free_port()
    command = [
        sys.executable, "-m", "assistant.llama_server",
        "--model", str(embedded_model_path(assistant_settings)),
        "--model_alias", "qwen",
        "--host", "127.0.0.1", "--port", str(port),
        "--n_ctx", "4096", "--n_threads", "1", "--seed", "0",
    ]  # fmt: skip
    base_url = f"http://127.0.0.1:{port}/v1"
    log_path = tmp_path_factory.mktemp("llama-chat-server") / "server.log"
    with running_process(command, f"{base_url}/models", log_path):
        yield base_url


class ScriptedChatServer:
    """A loopback server speaking the OpenAI streaming chat protocol with a fixed reply.

    Outside the product: it stands in for a misbehaving LLM server (one that invents a fee,
    answers in the wrong language or repeats its prompt) so that the checks downstream of the
    real client can be tested deterministically. It records every request body it receives.
    """

    def __init__(self, reply: str, *, delay_s: float = 0.0, first_delay_s: float = 0.0) -> None:
        self.reply = reply
        self.delay_s = delay_s  # between words, like a model writing
        self.first_delay_s = first_delay_s  # before the first word, like a model reading
        self.requests: list[dict] = []
        self.base_url = ""
        self._server: asyncio.AbstractServer | None = None

    async def __aenter__(self) -> ScriptedChatServer:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.base_url = f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}/v1"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
        length = next(
            (int(line.split(":", 1)[1]) for line in head.split("\r\n")
             if line.lower().startswith("content-length:")),
            0,
        )  # fmt: skip
        self.requests.append(json.loads(await reader.readexactly(length)) if length else {})
        writer.write(
            b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n"
        )
        if self.first_delay_s:
            await writer.drain()
            await asyncio.sleep(self.first_delay_s)
        words = self.reply.split(" ")
        for i, word in enumerate(words):
            piece = word + (" " if i < len(words) - 1 else "")
            writer.write(_sse({"content": piece}, None))
            if self.delay_s:
                await writer.drain()
                await asyncio.sleep(self.delay_s)
        writer.write(_sse({}, "stop") + b"data: [DONE]\n\n")
        await writer.drain()
        writer.close()


def _sse(delta: dict, finish_reason: str | None) -> bytes:
    chunk = {
        "id": "scripted",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": "scripted",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
    }
    return f"data: {json.dumps(chunk)}\n\n".encode()
