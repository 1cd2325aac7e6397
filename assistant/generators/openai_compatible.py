"""The production engine: chat completions streamed from an OpenAI-compatible server (vLLM).

Built on LangChain's `ChatOpenAI`. Its own retries are switched off and done here instead, so
that the number of retries and the backoff are settings, and so that a request is retried only
before its first token (a half-spoken answer is never restarted). Every failure becomes a
`GeneratorError` with a code the caller can act on; nothing waits longer than the timeouts.
Cancelling the consuming task closes the HTTP stream, which tells vLLM to stop generating.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Sequence

import httpx
import openai
from langchain_openai import ChatOpenAI

from assistant.config import AssistantSettings, OpenAICompatibleSettings
from assistant.generators.chat_model import ChatModelGenerator, chunk_text
from assistant.types import ChatTurn, GeneratorError

_RETRYABLE = {"unreachable", "timeout", "server_error"}
_NOT_A_COMPLETION = (
    openai.APIResponseValidationError,
    json.JSONDecodeError,
    ValueError,
    KeyError,
    TypeError,
    AttributeError,
)


# matched by name: the openai client may run on httpx or on its fork httpx2 (same names)
_PROTOCOL_ERRORS = {"RemoteProtocolError", "LocalProtocolError", "DecodingError"}


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def classify(exc: BaseException, base_url: str) -> GeneratorError:
    """A plain-language GeneratorError for whatever the HTTP client or the parser raised."""
    if isinstance(exc, GeneratorError):
        return exc
    server = f"the language model server at {base_url}"
    if isinstance(exc, openai.APITimeoutError | httpx.TimeoutException):
        return GeneratorError("timeout", f"{server} did not answer in time")
    if isinstance(exc, openai.APIConnectionError | httpx.TransportError):
        if _PROTOCOL_ERRORS & {type(e).__name__ for e in _chain(exc)}:
            return GeneratorError("bad_response", f"{server} sent a malformed HTTP response")
        return GeneratorError("unreachable", f"cannot reach {server}")
    if isinstance(exc, openai.APIStatusError):
        code = "server_error" if exc.status_code >= 500 or exc.status_code == 429 else "bad_request"
        return GeneratorError(code, f"{server} answered HTTP {exc.status_code}")
    if isinstance(exc, _NOT_A_COMPLETION):
        return GeneratorError(
            "bad_response", f"{server} sent something that is not a chat completion"
        )
    return GeneratorError("bad_response", f"{server} failed: {exc!r}")


class OpenAICompatibleGenerator(ChatModelGenerator):
    """ChatOpenAI with setting-driven retries/backoff and errors mapped to GeneratorError."""

    def __init__(self, config: OpenAICompatibleSettings) -> None:
        chat_model = ChatOpenAI(
            base_url=config.base_url,
            model=config.model,
            api_key=config.api_key,
            timeout=httpx.Timeout(config.read_timeout_s, connect=config.connect_timeout_s),
            max_retries=0,
            streaming=True,
        )
        super().__init__("openai", chat_model)
        self.config = config

    def request_options(self, max_tokens: int, temperature: float) -> dict[str, object]:
        # ChatOpenAI sends max_tokens as `max_completion_tokens`, which vLLM reads but
        # llama_cpp.server and older servers ignore; `max_tokens` in the body covers both.
        options = super().request_options(max_tokens, temperature)
        return {**options, "extra_body": {"max_tokens": max_tokens}}

    async def stream(
        self, messages: Sequence[ChatTurn], *, max_tokens: int, temperature: float
    ) -> AsyncIterator[str]:
        """Text deltas; retried (with backoff) only while no token has been yielded."""
        attempt = 0
        while True:
            started = finished = False
            try:
                async for chunk in self.chunks(
                    messages, max_tokens=max_tokens, temperature=temperature
                ):
                    finished = finished or bool(chunk.response_metadata.get("finish_reason"))
                    if text := chunk_text(chunk.content):
                        started = True
                        yield text
                if not finished:  # a real completion stream ends with a finish_reason
                    raise GeneratorError(
                        "bad_response",
                        f"the language model server at {self.config.base_url} ended the stream "
                        "without finishing a chat completion",
                    )
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                error = classify(exc, self.config.base_url)
                if started or error.code not in _RETRYABLE or attempt >= self.config.max_retries:
                    raise error from exc
            await asyncio.sleep(self.config.retry_backoff_s * 2**attempt)
            attempt += 1


def build_openai_generator(settings: AssistantSettings) -> OpenAICompatibleGenerator:
    return OpenAICompatibleGenerator(settings.openai)
