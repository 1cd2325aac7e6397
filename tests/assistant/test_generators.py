"""Both engines, for real: the embedded llama.cpp model and the OpenAI-compatible client
against a real llama_cpp.server; plus servers that are down, silent or speak garbage."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from assistant.config import OpenAICompatibleSettings
from assistant.generators.openai_compatible import OpenAICompatibleGenerator
from assistant.types import ChatTurn, Generator, GeneratorError
from tests.servers import free_port

COUNT = [ChatTurn("user", "Count from 1 to 100, separated by commas.")]


async def first_tokens(generator: Generator, n: int, max_tokens: int = 200) -> list[str]:
    tokens: list[str] = []
    async for delta in generator.stream(COUNT, max_tokens=max_tokens, temperature=0.0):
        tokens.append(delta)
        if len(tokens) >= n:
            break
    return tokens


async def assert_cancellation_stops_generation(generator: Generator) -> None:
    """Cancel the consuming task mid-answer: it ends at once and the engine is free again."""
    got_token = asyncio.Event()

    async def consume() -> None:
        async for _ in generator.stream(COUNT, max_tokens=300, temperature=0.0):
            got_token.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(got_token.wait(), timeout=240)
    started = time.perf_counter()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    assert time.perf_counter() - started < 1.0
    # the engine stopped the cancelled answer: a new one starts (it would queue behind a
    # 300-token answer otherwise)
    assert await asyncio.wait_for(first_tokens(generator, 2), timeout=120)


async def test_embedded_model_streams_an_answer(embedded_generator):
    tokens = await first_tokens(embedded_generator, 6)
    assert "1" in "".join(tokens)
    assert len(tokens) == 6  # streamed token by token, not one block


async def test_embedded_model_respects_max_tokens(embedded_generator):
    tokens = [t async for t in embedded_generator.stream(COUNT, max_tokens=5, temperature=0.0)]
    assert 1 <= len(tokens) <= 5


async def test_cancelling_the_embedded_model_stops_it(embedded_generator):
    await assert_cancellation_stops_generation(embedded_generator)


def server_generator(base_url: str, **overrides) -> OpenAICompatibleGenerator:
    config = {"base_url": base_url, "model": "qwen", "read_timeout_s": 60.0, **overrides}
    return OpenAICompatibleGenerator(OpenAICompatibleSettings(**config))


async def test_openai_compatible_client_streams_from_a_real_server(llama_server):
    generator = server_generator(llama_server)
    tokens = [t async for t in generator.stream(COUNT, max_tokens=8, temperature=0.0)]
    assert "1" in "".join(tokens)
    assert 2 <= len(tokens) <= 8  # streamed, and max_tokens reached the server


async def test_cancelling_the_http_stream_stops_the_server(llama_server):
    await assert_cancellation_stops_generation(server_generator(llama_server))


async def test_server_down_is_a_clear_error_fast():
    generator = server_generator(
        f"http://127.0.0.1:{free_port()}/v1", max_retries=2, retry_backoff_s=0.05
    )
    started = time.perf_counter()
    with pytest.raises(GeneratorError) as caught:
        await first_tokens(generator, 1)
    assert caught.value.code == "unreachable"
    assert "cannot reach" in caught.value.message
    assert time.perf_counter() - started < 5


ServerHandler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@contextlib.asynccontextmanager
async def tcp_server(handler: ServerHandler) -> AsyncIterator[str]:
    """A loopback TCP server outside the product, standing in for a broken LLM server."""
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        server.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(server.wait_closed(), 2)


async def test_silent_server_times_out_instead_of_hanging():
    async def accept_and_say_nothing(reader, writer):
        await asyncio.sleep(30)
        writer.close()

    async with tcp_server(accept_and_say_nothing) as url:
        generator = server_generator(url, read_timeout_s=0.5, max_retries=1, retry_backoff_s=0.05)
        started = time.perf_counter()
        with pytest.raises(GeneratorError) as caught:
            await first_tokens(generator, 1)
    assert caught.value.code == "timeout"
    assert time.perf_counter() - started < 5


@pytest.mark.parametrize(
    "reply",
    [
        b"this is not HTTP at all\r\n\r\n",
        b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\r\ndata: {not json\n\n",
        b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\r\n"
        b'data: {"unexpected": [1, 2]}\n\ndata: [DONE]\n\n',
        b"HTTP/1.1 500 Internal Server Error\r\ncontent-length: 5\r\n\r\noops!",
    ],
    ids=["not-http", "bad-json", "wrong-shape", "http-500"],
)
async def test_garbage_from_the_server_is_a_clear_error(reply: bytes):
    async def answer_garbage(reader, writer):
        with contextlib.suppress(Exception):
            await reader.readuntil(b"\r\n\r\n")
            writer.write(reply)
            await writer.drain()
        writer.close()

    async with tcp_server(answer_garbage) as url:
        generator = server_generator(url, read_timeout_s=2, max_retries=0)
        with pytest.raises(GeneratorError) as caught:
            await asyncio.wait_for(first_tokens(generator, 1), timeout=10)
    assert caught.value.code in {"bad_response", "server_error"}
    assert "language model server" in caught.value.message


async def test_two_callers_are_answered_at_once_not_one_after_the_other(embedded_generator):
    """The embedded engine keeps a pool of contexts: a second caller's first token comes
    before the first caller's answer ends."""
    assert embedded_generator.chat_model.n_contexts >= 2
    first_token: dict[str, float] = {}
    finished: dict[str, float] = {}

    async def caller(name: str) -> None:
        async for _ in embedded_generator.stream(COUNT, max_tokens=60, temperature=0.0):
            first_token.setdefault(name, time.perf_counter())
        finished[name] = time.perf_counter()

    await asyncio.wait_for(asyncio.gather(caller("a"), caller("b")), timeout=600)
    assert first_token["b"] < finished["a"] and first_token["a"] < finished["b"]


async def test_prefill_and_the_system_prompt_are_reused(embedded_generator):
    from assistant.generators.chat_model import to_langchain
    from assistant.generators.llama_cpp import _common_prefix

    model = embedded_generator.chat_model
    system = ChatTurn("system", "You answer questions about Hong Kong passports briefly.")
    prefix = [system, ChatTurn("user", "Sources: a 48-page passport costs HK$460.")]
    full = [system, ChatTurn("user", "Sources: a 48-page passport costs HK$460.\nQ: cost?")]
    cached = await asyncio.to_thread(model.prefill, prefix)
    tokens, _stop, system_size = model.prompt_tokens(to_langchain(full))
    assert 0 < system_size < cached
    best = max(_common_prefix(c.evaluated(), tokens) for c in model._contexts)
    assert best >= cached - 8  # all but the chat template's closing tokens are already read
    # the system prompt's state is saved for the pool, restored after other prompts
    assert any(saved[0] == tokens[:system_size] for saved in model._saved.values())
    assert "".join(await first_tokens(embedded_generator, 3))


def test_busy_contexts_share_the_threads(monkeypatch):
    """One caller gets every thread; two at once get half each, set before their next token
    (llama.cpp threads spin-wait, so oversubscribed cores slow every caller down)."""
    from types import SimpleNamespace

    import llama_cpp

    from assistant.generators.llama_cpp import LlamaCppChatModel, _Context

    calls: list[tuple[int, int, int]] = []
    monkeypatch.setattr(llama_cpp, "llama_set_n_threads", lambda *args: calls.append(args))
    model = LlamaCppChatModel(model_path="unused.gguf", n_threads=2, n_threads_batch=4)
    first, second = _Context(SimpleNamespace(ctx=1)), _Context(SimpleNamespace(ctx=2))
    model._contexts = [first, second]  # the pool alone: no model is loaded

    first.busy = True
    model._share_threads(first)
    second.busy = True
    model._share_threads(second)
    model._share_threads(first)
    model._share_threads(first)  # unchanged: not set again
    second.busy = False
    model._share_threads(first)
    assert calls == [(1, 2, 4), (2, 1, 2), (1, 1, 2), (1, 2, 4)]

    model.share_threads = False
    second.busy = True
    model._share_threads(first)
    assert len(calls) == 4


async def test_warm_system_prompts_are_restored_in_every_context_not_read(embedded_generator):
    """Each language's system prompt is read once at load for the whole pool: any context
    then restores it, reads only the rest of the prompt, and answers the same."""
    from assistant.generators.chat_model import to_langchain
    from assistant.prompts import system_prompt

    model = embedded_generator.chat_model
    assert len(model._contexts) >= 2
    system = system_prompt("yue", "1823")  # warmed by build_llama_cpp_generator
    prompt = [
        ChatTurn("system", system),
        ChatTurn("user", "資料:\n[1] 護照費用: 港幣460元\n問題: 幾多錢?"),
    ]
    tokens, _stop, size = model.prompt_tokens(to_langchain(prompt))
    assert any(saved[0] == tokens[:size] for saved in model._saved.values())
    assert all(saved[1].scores.shape[0] == 1 for saved in model._saved.values())  # compacted
    read: list[int] = []
    answers = []
    for context in model._contexts[:2]:
        context.llama.reset()  # forget what it read: only the saved state can help
        original = context.llama.eval
        context.llama.eval = lambda t, original=original: (read.append(len(t)), original(t))[1]
        try:
            for other in model._contexts:
                other.busy = other is not context  # the request must take this context
            answers.append("".join(await first_tokens_of(embedded_generator, prompt, 6)))
        finally:
            for other in model._contexts:
                other.busy = False
            del context.llama.eval
    assert read and max(read) <= len(tokens) - size + 1  # never the system prompt again
    assert answers[0] == answers[1] and answers[0]


async def first_tokens_of(generator, messages, n: int) -> list[str]:
    tokens: list[str] = []
    async for delta in generator.stream(messages, max_tokens=n, temperature=0.0):
        tokens.append(delta)
    return tokens


def test_answers_pause_while_a_prompt_is_read_and_prompts_are_read_one_at_a_time():
    """serial_prompts: another answer waits between tokens while a prompt is read, and a
    second prompt is read after the first (no model: the pool's gate alone)."""
    import threading
    from types import SimpleNamespace

    from assistant.generators.llama_cpp import LlamaCppChatModel, _Context

    model = LlamaCppChatModel(model_path="unused.gguf", share_threads=False)
    reader, writer, second = (_Context(SimpleNamespace(ctx=i)) for i in range(3))
    resumed = threading.Event()
    order: list[str] = []

    def read_second() -> None:
        with model._prompt_turn(second):
            order.append("second read")

    with model._prompt_turn(reader):
        paused = threading.Thread(target=lambda: (model._after_token(writer), resumed.set()))
        queued = threading.Thread(target=read_second)
        paused.start()
        queued.start()
        assert not resumed.wait(0.2)  # the answer waits while the prompt is read
        order.append("first read")
    assert resumed.wait(10)
    paused.join(10)
    queued.join(10)
    assert order == ["first read", "second read"]
    assert model._readers == 0 and not model._reading


@pytest.mark.parametrize(
    ("setting", "pays", "cpuinfo", "wanted"),
    [
        ("auto", True, "flags\t: fpu avx2 avx512f avx512_vnni\n", True),
        ("auto", True, "flags\t: fpu avx2 avx512f amx_bf16 amx_tile amx_int8\n", False),
        ("auto", True, "", False),  # nothing known of the CPU: the setting that never crashed
        ("auto", True, "processor\t: 0\nFeatures\t: fp asimd aes sha2 i8mm bf16\n", True),  # Arm
        ("auto", False, "flags\t: avx2\n", False),  # the Q8: repacking measured no faster
        (True, False, "flags\t: amx_tile\n", True),  # an operator's explicit choice stands
        (False, True, "flags\t: avx2\n", False),
    ],
)
def test_weight_repacking_only_where_it_pays_and_never_on_amx(
    tmp_path, setting, pays, cpuinfo, wanted
):
    from assistant.generators.llama_cpp import extra_buffers_wanted

    path = tmp_path / "cpuinfo"
    path.write_text(cpuinfo)
    assert extra_buffers_wanted(setting, pays, path) is wanted
    assert extra_buffers_wanted("auto", True, tmp_path / "absent") is False
