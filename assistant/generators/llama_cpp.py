"""The embedded engine: a GGUF model run in-process by llama-cpp-python.

`LlamaCppChatModel` is a small LangChain `BaseChatModel` over `llama_cpp.Llama` (so the
embedded model sits behind the same chat-model interface as ChatOpenAI) written here rather
than taken from langchain-community, which would add a large dependency for one class and
whose `ChatLlamaCpp` streams through LangChain's default executor hop per token and cannot be
stopped mid-answer.

Several callers at once: one `Llama` context is not thread-safe, so the model keeps a pool of
`n_contexts` contexts (each a `Llama` over the same memory-mapped GGUF: the weights are shared
through the page cache, each context adds only its KV cache). A request takes a free context
and waits only when all are busy, instead of queueing behind one locked context.

Prompt reuse: a prompt is formatted with the GGUF's own chat template and tokenised here, and
the request goes to the free context whose evaluated tokens share the longest prefix with it;
llama.cpp then reads only the new part. The system prompt of each language is evaluated once
for the whole pool and its KV state saved: any context restores it (a state blob loads into
any context of the same model and size) instead of re-reading it, also after another prompt (a
follow-up rewrite, another language) used the context. `warm(system_prompts)` reads them at
load time, so no caller pays for it. `prefill(messages)` evaluates a prompt
prefix ahead of time (system + evidence while the caller is still speaking): the answer that
follows with the same prefix starts from there.

Threads shared: llama.cpp's threads spin-wait on each other, so k contexts working at once
with 2 threads each on 2 cores run far slower than with 1 each. With `share_threads` each
busy context uses max(1, n // k) threads (n = n_threads, or n_threads_batch for reading a
prompt), set again before every token: a caller alone gets both cores, four callers one each.

Prompts read one at a time (`serial_prompts`): a prompt is read with every thread while the
other contexts' answers pause between tokens, then they all write on, sharing the threads.
Reading four prompts at once on 2 cores made every caller wait for all four (first tokens at
7-10 s, 4 of 8 turns past the first-token limit with 4 typed sessions); one at a time the
k-th caller's first token comes after k reads (~1.1 s each).

Cancellation: generation runs in a worker thread that checks a stop flag between tokens; when
the consuming task is cancelled (or the stream closed) the flag is set and the thread ends at
the next token.
"""

from __future__ import annotations

import hashlib
import itertools
import threading
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import ConfigDict, PrivateAttr

from assistant.config import AssistantSettings
from assistant.generators.chat_model import ChatModelGenerator, to_langchain
from assistant.models import QUANTISED_MODELS, cpu_flags, embedded_model_path
from assistant.prompts import system_prompt
from assistant.threads import iterate_in_thread
from assistant.types import ChatTurn, GeneratorError

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


def extra_buffers_wanted(
    setting: bool | str, repack_pays: bool, cpuinfo: Path = Path("/proc/cpuinfo")
) -> bool:
    """`assistant.llama_cpp.extra_buffers` resolved. "auto" is on only where repacking pays
    (`repack_pays`: the Q4_0 model, ~1.4x faster; the packaged 0.5B measured no faster) and
    the CPU does not advertise AMX (the CPUs the crash above was seen on; an unreadable
    cpuinfo counts as AMX). True or False is the operator's choice and stands."""
    if setting != "auto":
        return bool(setting)
    if not repack_pays:
        return False
    flags = cpu_flags(cpuinfo)
    return flags is not None and not any(flag.startswith("amx_") for flag in flags)


@dataclass
class _Context:
    """One llama.cpp context of the pool."""

    llama: Any
    busy: bool = False
    threads: tuple[int, int] = (0, 0)  # (generation, prompt) threads set now; 0 = as loaded

    def evaluated(self) -> list[int]:
        return list(self.llama.input_ids[: self.llama.n_tokens])


def _compact(state: Any) -> Any:
    """A saved state without its per-token logits: `save_state` copies n_tokens x n_vocab
    floats (77 MB for a 127-token system prompt with Qwen's 152k vocabulary), which nothing
    reads: after `load_state` llama-cpp-python evaluates again before sampling. One row is
    kept (load_state broadcasts it)."""
    state.scores = state.scores[-1:].copy()
    return state


def _common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


class LlamaCppChatModel(BaseChatModel):
    """A chat model over a pool of in-process llama.cpp contexts (see the module docstring)."""

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
    n_contexts: int = 1
    reuse_system_prompt: bool = True
    share_threads: bool = True
    serial_prompts: bool = True

    _contexts: list[_Context] = PrivateAttr(default_factory=list)
    _free: threading.Condition = PrivateAttr(default_factory=threading.Condition)
    _formatter: Any = PrivateAttr(default=None)
    # system prompt states, shared by the pool: sha1 of the tokens -> (tokens, LlamaState)
    _saved: dict[str, tuple[list[int], Any]] = PrivateAttr(default_factory=dict)
    _load_lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)
    _gate: threading.Condition = PrivateAttr(default_factory=threading.Condition)
    _readers: int = PrivateAttr(default=0)  # prompts being read or waiting to be read
    _reading: bool = PrivateAttr(default=False)

    @property
    def _llm_type(self) -> str:
        return "llama-cpp"

    def _new_llama(self) -> Any:
        from llama_cpp import Llama

        if not self.extra_buffers:
            disable_extra_buffers()
        try:
            return Llama(
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

    def load(self) -> Any:
        """Load the model and its contexts once (a few seconds); returns the first context."""
        with self._load_lock:
            if not self._contexts:
                contexts = [_Context(self._new_llama()) for _ in range(self.n_contexts)]
                self._formatter = _chat_formatter(contexts[0].llama)
                self._contexts = contexts
        return self._contexts[0].llama

    # ---- prompts -----------------------------------------------------------------------

    def prompt_tokens(self, messages: Sequence[BaseMessage]) -> tuple[list[int], list[str], int]:
        """The prompt's tokens as the GGUF's chat template writes it, its stop strings, and
        how many of its tokens are the system prompt (0 when it has none)."""
        llama = self.load()
        payload = [{"role": _ROLES.get(m.type, "user"), "content": m.text} for m in messages]
        formatted = self._formatter(messages=payload)
        prompt: str = formatted.prompt
        tokens = llama.tokenize(prompt.encode("utf-8"), add_bos=False, special=True)
        system = next((m["content"] for m in payload if m["role"] == "system"), "")
        system_tokens = 0
        if system and system in prompt:
            end = prompt.index(system) + len(system)
            system_tokens = len(
                llama.tokenize(prompt[:end].encode("utf-8"), add_bos=False, special=True)
            )
            if tokens[:system_tokens] != llama.tokenize(
                prompt[:end].encode("utf-8"), add_bos=False, special=True
            ):
                system_tokens = 0  # the system text merged with what follows: no clean prefix
        stop = formatted.stop if isinstance(formatted.stop, list) else [formatted.stop]
        return tokens, [s for s in stop if s], system_tokens

    # ---- the pool ----------------------------------------------------------------------

    @contextmanager
    def _context_for(self, tokens: Sequence[int]) -> Iterator[_Context]:
        """A free context, the one that has already read most of `tokens` (waits if none)."""
        self.load()
        with self._free:
            while not (free := [c for c in self._contexts if not c.busy]):
                self._free.wait()
            context = max(free, key=lambda c: _common_prefix(c.evaluated(), tokens))
            context.busy = True
        self._share_threads(context)
        try:
            yield context
        finally:
            with self._free:
                context.busy = False
                self._free.notify()

    def _share_threads(self, context: _Context, *, alone: bool = False) -> None:
        """Give `context` its share of the threads for the contexts busy now (see above);
        all of them when it runs `alone` (reading a prompt while the others pause)."""
        if not self.share_threads:
            return
        busy = 1 if alone else max(1, sum(c.busy for c in self._contexts))
        threads = (max(1, self.n_threads // busy), max(1, self.n_threads_batch // busy))
        if context.threads != threads:
            import llama_cpp

            llama_cpp.llama_set_n_threads(context.llama.ctx, *threads)
            context.threads = threads

    @contextmanager
    def _prompt_turn(self, context: _Context) -> Iterator[None]:
        """Read a prompt alone: wait for the prompt being read, pause the others' answers
        (they wait in `_after_token`), use every thread."""
        if not self.serial_prompts:
            yield
            return
        with self._gate:
            self._readers += 1
            while self._reading:
                self._gate.wait()
            self._reading = True
        try:
            self._share_threads(context, alone=True)
            yield
        finally:
            with self._gate:
                self._reading = False
                self._readers -= 1
                self._gate.notify_all()

    def _after_token(self, context: _Context) -> None:
        """Between two tokens of an answer: pause while prompts are read, then take this
        context's share of the threads."""
        if self._readers:
            with self._gate:
                while self._readers:
                    self._gate.wait()
        self._share_threads(context)

    def _restore_system_prompt(self, context: _Context, tokens: list[int], size: int) -> None:
        """Make `context` hold the KV of the prompt's system part: already there, restored
        from the state saved the first time (in any context), or read now and saved."""
        if not self.reuse_system_prompt or size == 0:
            return
        if _common_prefix(context.evaluated(), tokens) >= size:
            return
        key = hashlib.sha1(bytes(str(tokens[:size]), "ascii")).hexdigest()
        llama = context.llama
        if key in self._saved:
            llama.load_state(self._saved[key][1])
            return
        llama.reset()
        llama.eval(tokens[:size])
        self._saved[key] = (tokens[:size], _compact(llama.save_state()))

    def warm(self, system_prompts: Sequence[str]) -> int:
        """Read each system prompt once and save its state for the pool (blocking; at load
        time), so the first caller of each language does not pay for it; returns how many
        are saved."""
        from langchain_core.messages import HumanMessage, SystemMessage

        for system in system_prompts:
            messages = [SystemMessage(content=system), HumanMessage(content="?")]
            tokens, _stop, size = self.prompt_tokens(messages)
            with self._context_for(tokens) as context, self._prompt_turn(context):
                self._restore_system_prompt(context, tokens, size)
        return len(self._saved)

    def prefill(self, messages: Sequence[ChatTurn]) -> int:
        """Evaluate a prompt ahead of time (blocking; run it in a thread) so a later request
        that starts with it reads only what follows; returns the tokens now cached."""
        tokens, _stop, system_size = self.prompt_tokens(to_langchain(messages))
        with self._context_for(tokens) as context, self._prompt_turn(context):
            self._restore_system_prompt(context, tokens, system_size)
            common = _common_prefix(context.evaluated(), tokens)
            llama = context.llama
            if common < len(tokens):
                llama.n_tokens = common
                llama.eval(tokens[common:])
            return len(tokens)

    def _completion_chunks(
        self, messages: list[BaseMessage], stop: list[str] | None, **kwargs: Any
    ) -> Iterator[str]:
        """Token texts of one chat completion, in one context of the pool."""
        tokens, template_stop, system_size = self.prompt_tokens(messages)
        if len(tokens) >= self.n_ctx:
            message = f"the prompt ({len(tokens)} tokens) does not fit the context ({self.n_ctx})"
            raise GeneratorError("model_error", message)
        with self._context_for(tokens) as context:
            stream = context.llama.create_completion(
                prompt=tokens,
                stream=True,
                stop=[*(stop or []), *template_stop],
                max_tokens=int(kwargs.get("max_tokens", self.max_tokens)),
                temperature=float(kwargs.get("temperature", self.temperature)),
                seed=self.seed,
            )
            try:
                with self._prompt_turn(context):  # the prompt is read by the first step
                    self._restore_system_prompt(context, tokens, system_size)
                    try:
                        first = next(stream, None)
                    except ValueError as exc:  # e.g. the prompt does not fit the context
                        message = f"the embedded model refused the prompt: {exc}"
                        raise GeneratorError("model_error", message) from exc
                chunks = itertools.chain([first] if first is not None else [], stream)
                for chunk in chunks:
                    if text := chunk["choices"][0].get("text"):
                        yield text
                    self._after_token(context)  # others may be reading, starting, finishing
            finally:
                stream.close()

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
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
            yield from self._completion_chunks(messages, stop, **kwargs)

        async for text in iterate_in_thread(produce, name="llama-cpp-generate"):
            yield ChatGenerationChunk(message=AIMessageChunk(content=text))


def _chat_formatter(llama: Any) -> Any:
    """The GGUF's own chat template (as llama-cpp-python applies it), or ChatML (Qwen)."""
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    template = llama.metadata.get("tokenizer.chat_template")
    if not template:
        template = (
            "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n"
            "{% endfor %}<|im_start|>assistant\n"
        )
    vocab = llama._model

    def token_text(token: int) -> str:
        return vocab.token_get_text(token) if token >= 0 else ""

    return Jinja2ChatFormatter(
        template=template,
        eos_token=token_text(llama.token_eos()),
        bos_token=token_text(llama.token_bos()),
        stop_token_ids=[llama.token_eos()],
    )


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
        extra_buffers=extra_buffers_wanted(
            config.extra_buffers, config.model_path is None and config.model in QUANTISED_MODELS
        ),
        max_tokens=settings.max_answer_tokens,
        temperature=settings.temperature,
        n_contexts=config.n_contexts,
        reuse_system_prompt=config.reuse_system_prompt,
        share_threads=config.share_threads,
        serial_prompts=config.serial_prompts,
    )
    chat_model.load()
    if config.reuse_system_prompt:
        chat_model.warm([system_prompt(lang, settings.hotline) for lang in ("en", "yue", "cmn")])
    return ChatModelGenerator("llama_cpp", chat_model)
