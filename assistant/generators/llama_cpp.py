"""The embedded engine: a GGUF model run in-process by llama-cpp-python.

`LlamaCppChatModel` is a small LangChain `BaseChatModel` over `llama_cpp.Llama` (so the
embedded model sits behind the same chat-model interface as ChatOpenAI) written here rather
than taken from langchain-community, which would add a large dependency for one class and
whose `ChatLlamaCpp` streams through LangChain's default executor hop per token and cannot be
stopped mid-answer.

Cancellation: generation runs in a worker thread that checks a stop flag between tokens; when
the consuming task is cancelled (or the stream closed) the flag is set and the thread ends at
the next token. One `Llama` context is not thread-safe, so generations are serialised by a lock.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import ConfigDict, PrivateAttr

from assistant.config import AssistantSettings
from assistant.generators.chat_model import ChatModelGenerator
from assistant.models import embedded_model_path
from assistant.threads import iterate_in_thread
from assistant.types import GeneratorError

_ROLES = {"system": "system", "human": "user", "ai": "assistant"}
_patch_lock = threading.Lock()


def disable_extra_buffers() -> None:
    """Load llama.cpp models without "extra buffer types" (weight repacking for AMX/AVX512).

    With llama-cpp-python 0.3.36 on this project's CPUs (AVX512 + AMX advertised), any prompt
    of more than one token segfaults inside `llama_decode` when the weights are repacked;
    with `use_extra_bufts = false` the same model runs correctly. `Llama` does not expose the
    flag, so the default-params function it calls is wrapped (process-wide, idempotent).
    """
    import llama_cpp.llama_cpp as lib

    with _patch_lock:
        original = lib.llama_model_default_params
        if getattr(original, "_samyu_no_extra_buffers", False):
            return

        def default_params() -> Any:
            params = original()
            params.use_extra_bufts = False
            return params

        default_params._samyu_no_extra_buffers = True  # type: ignore[attr-defined]
        lib.llama_model_default_params = default_params


class LlamaCppChatModel(BaseChatModel):
    """A chat model over one in-process llama.cpp context."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    model_path: str
    n_ctx: int = 4096
    n_threads: int = 2
    n_threads_batch: int = 2
    n_batch: int = 256
    seed: int = 0
    extra_buffers: bool = False
    max_tokens: int = 256
    temperature: float = 0.1

    _llama: Any = PrivateAttr(default=None)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    @property
    def _llm_type(self) -> str:
        return "llama-cpp"

    def load(self) -> Any:
        """Load the model once (a few seconds); later calls return the loaded one."""
        if self._llama is None:
            from llama_cpp import Llama

            if not self.extra_buffers:
                disable_extra_buffers()
            try:
                self._llama = Llama(
                    model_path=self.model_path,
                    n_ctx=self.n_ctx,
                    n_threads=self.n_threads,
                    n_threads_batch=self.n_threads_batch,
                    n_batch=self.n_batch,
                    seed=self.seed,
                    verbose=False,
                )
            except (ValueError, RuntimeError) as exc:
                message = f"cannot load {self.model_path}: {exc}"
                raise GeneratorError("model_error", message) from exc
        return self._llama

    def _completion_chunks(
        self, messages: list[BaseMessage], stop: list[str] | None, **kwargs: Any
    ) -> Iterator[str]:
        """Token texts of one chat completion (caller holds the lock)."""
        llama = self.load()
        payload = [{"role": _ROLES.get(m.type, "user"), "content": m.text} for m in messages]
        try:
            stream = llama.create_chat_completion(
                messages=payload,
                stream=True,
                stop=stop,
                max_tokens=int(kwargs.get("max_tokens", self.max_tokens)),
                temperature=float(kwargs.get("temperature", self.temperature)),
                seed=self.seed,
            )
        except ValueError as exc:  # e.g. the prompt does not fit the context window
            message = f"the embedded model refused the prompt: {exc}"
            raise GeneratorError("model_error", message) from exc
        try:
            for chunk in stream:
                delta = chunk["choices"][0].get("delta", {})
                if text := delta.get("content"):
                    yield text
        finally:
            stream.close()

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        with self._lock:
            for text in self._completion_chunks(messages, stop, **kwargs):
                yield ChatGenerationChunk(message=AIMessageChunk(content=text))

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        text = "".join(chunk.text for chunk in self._stream(messages, stop, **kwargs))
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        def produce() -> Iterator[str]:
            with self._lock:
                yield from self._completion_chunks(messages, stop, **kwargs)

        async for text in iterate_in_thread(produce, name="llama-cpp-generate"):
            yield ChatGenerationChunk(message=AIMessageChunk(content=text))


def build_llama_cpp_generator(settings: AssistantSettings) -> ChatModelGenerator:
    """The embedded engine from settings; the model is loaded now (once per generator)."""
    config = settings.llama_cpp
    chat_model = LlamaCppChatModel(
        model_path=str(embedded_model_path(settings)),
        n_ctx=config.n_ctx,
        n_threads=config.n_threads,
        n_threads_batch=config.n_threads_batch,
        n_batch=config.n_batch,
        seed=config.seed,
        extra_buffers=config.extra_buffers,
        max_tokens=settings.max_answer_tokens,
        temperature=settings.temperature,
    )
    chat_model.load()
    return ChatModelGenerator("llama_cpp", chat_model)
