"""Pieces for speaking sooner, for the turn's flow to call (the flow itself is not here).

- Speculative retrieval (wired: assistant/session.py starts it, the retrieval stage uses it):
  when the caller's partial transcript is stable (`is_stable`), `Speculation` retrieves for
  it while they are still speaking; the turn's retrieval stage (`speculative_hits`, called
  by assistant/stages/retrieval.py) reuses those hits when the final query asks the same
  (`still_valid`) in the same language, and discards them (cancelled) otherwise.
- Prefill (wired, issue 14): once the speculative hits are in, `prefix_messages()` (the
  prompt up to the question: system prompt + the partial's evidence) is read by the embedded
  engine's `prefill()` while the caller still speaks (assistant.turn.Assistant.speculate);
  the turn waits for it (`prefill_done`) and then reads only what differs, usually just the
  question, since the answer prompt puts the question last. When the final asks something
  else the prompt shares only the system part with it: nothing is wrong, the read was wasted.
- `is_stable()`: a partial transcript is stable when the last partials agree on its words.
- A short spoken acknowledgement ("好，我幫你查下。", `acknowledgement()`): the answerer says it
  when `until_due()` reports the model has produced no sentence `acknowledge_after_s` after
  the evidence gate passed (a HoldingPhrase frame).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import aclosing, suppress
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Literal, Protocol

from assistant.gate import content_terms
from assistant.prompts import PromptSource, answer_messages
from assistant.types import ChatTurn, SpokenLanguage
from knowledge_base.types import Hit

ACKNOWLEDGEMENTS: dict[SpokenLanguage, tuple[str, ...]] = {
    "yue": ("好，我幫你查下。", "收到，等我睇睇。", "好呀，我搵一搵。"),
    "cmn": ("好的，我帮你查一下。", "收到，我看一下。", "好，我找一找。"),
    "en": ("Sure, let me check.", "One moment, I'm looking that up.", "Okay, let me find that."),
}


def acknowledgement(language: SpokenLanguage, turn_number: int = 0) -> str:
    """A short acknowledgement in the caller's language, varied from turn to turn."""
    phrases = ACKNOWLEDGEMENTS[language]
    return phrases[turn_number % len(phrases)]


class Due:
    """The marker `until_due()` yields once when the deadline passed while still waiting."""


DUE = Due()


async def until_due(
    stream: AsyncIterator[str], after_s: float | None, waiting: Callable[[], bool]
) -> AsyncIterator[str | Due]:
    """`stream`'s items, plus `DUE` once if `after_s` passes while `waiting()` is still true
    (no answer sentence yet) and no item is ready. The deadline never stops the model.

    The stream is read (and closed) by one task of its own, so a generator that holds a
    connection (httpx, anyio scopes) is entered and left in the same task; stopping this
    iterator (a barge-in, a timeout, enough sentences) cancels that task, which closes it."""
    if not after_s:
        async for item in stream:
            yield item
        return
    queue: asyncio.Queue[tuple[str | None, Exception | None]] = asyncio.Queue(maxsize=1)

    async def pump() -> None:
        try:
            async with aclosing(stream):  # type: ignore[type-var]
                async for item in stream:
                    await queue.put((item, None))
            await queue.put((None, None))
        except Exception as exc:  # e.g. GeneratorError: the consumer raises it
            await queue.put((None, exc))

    reader = asyncio.create_task(pump(), name="answer-stream")
    due: float | None = asyncio.get_running_loop().time() + after_s
    try:
        while True:
            if due is not None and waiting():
                try:
                    async with asyncio.timeout_at(due):
                        item, error = await queue.get()
                except TimeoutError:
                    due = None
                    yield DUE
                    continue
            else:
                due = None
                item, error = await queue.get()
            if error is not None:
                raise error
            if item is None:
                return
            yield item
    finally:
        reader.cancel()
        await asyncio.wait({reader})


def is_stable(partials: Sequence[str], agreeing: int = 2) -> bool:
    """The last `agreeing` partial transcripts have the same content words (the recogniser
    has stopped revising what the caller asked)."""
    if len(partials) < agreeing:
        return False
    last = [content_terms(p) for p in partials[-agreeing:]]
    return bool(last[0]) and all(terms == last[0] for terms in last[1:])


def still_valid(prepared_question: str, final_question: str) -> bool:
    """The final transcript asks about the same content words as the prepared partial."""
    final_terms = content_terms(final_question)
    return bool(final_terms) and content_terms(prepared_question) == final_terms


def prefix_messages(
    evidence: Sequence[PromptSource], language: SpokenLanguage, *, hotline: str
) -> list[ChatTurn]:
    """The prompt up to the question: system prompt and evidence, the part worth prefilling
    (the answer prompt puts the question last for this reason)."""
    messages = answer_messages("", evidence, language, hotline=hotline)
    user = messages[-1].content
    label_at = user.rfind("\n\n")
    return [*messages[:-1], ChatTurn("user", user[:label_at] if label_at > 0 else user)]


log = logging.getLogger(__name__)


@dataclass
class Speculation:
    """Retrieval started on a stable partial transcript, before the caller finished."""

    question: str  # the partial it was started on
    language: SpokenLanguage
    k: int
    hits: asyncio.Task[list[Hit]]
    outcome: Literal["pending", "reused", "discarded"] = "pending"
    prefill: asyncio.Task[bool] | None = None  # the model reading the prompt's prefix ahead
    prefill_ms: float | None = None  # how long that read took, once it is done

    def discard(self) -> None:
        """Not needed (another question, no turn, or the turn is over): stop it, retrieval
        and prefill (the one place either is cancelled; a prefill already reading finishes in
        its thread: llama.cpp cannot stop inside a batch)."""
        self.hits.cancel()
        if self.prefill is not None:
            self.prefill.cancel()
        if self.outcome == "pending":
            self.outcome = "discarded"


class Speculate(Protocol):
    """Starts retrieval for a stable partial transcript (assistant.turn.Assistant.speculate,
    bound to a session's collection)."""

    def __call__(self, question: str, *, language: SpokenLanguage) -> Speculation: ...


class Speculator:
    """The speculation stage of one caller: watches an utterance's partial transcripts and
    starts one speculative retrieval once they are stable."""

    def __init__(self, speculate: Speculate | None) -> None:
        self.speculate = speculate
        self.partials: list[str] = []  # this utterance's partial transcripts
        self.current: Speculation | None = None  # for the utterance in progress
        self.started: deque[Speculation] = deque(maxlen=8)  # the last few (tests, logs)

    def on_partial(self, text: str, language: SpokenLanguage) -> None:
        self.partials.append(text)
        if self.speculate is None or self.current is not None or not is_stable(self.partials):
            return
        self._start(text, language)

    def on_candidate(self, text: str, language: SpokenLanguage) -> None:
        """The recogniser's speculative final (decoded in a pause, voices.streaming): it is
        the final if the caller says no more, so speculate on it now without waiting for
        partials to agree; a speculation on other words is replaced."""
        self.partials.append(text)
        if self.speculate is None or not content_terms(text):
            return
        current = self.current
        if current is not None:
            if current.language == language and still_valid(current.question, text):
                return
            current.discard()
            self.current = None
        self._start(text, language)

    def _start(self, text: str, language: SpokenLanguage) -> None:
        assert self.speculate is not None
        try:
            self.current = self.speculate(text, language=language)
        except Exception:  # speculation is an optimisation: the turn retrieves as usual
            log.warning("speculative retrieval could not start", exc_info=True)
            return
        self.started.append(self.current)

    def new_utterance(self) -> None:
        """Speech started: its partials start afresh (a speculation still pending belongs to
        the utterance before, whose final may not be decoded yet: it keeps it)."""
        self.partials = []

    def take(self) -> Speculation | None:
        """The utterance ended: its speculation (if any) goes to its turn; start afresh."""
        current, self.current, self.partials = self.current, None, []
        return current


# the speculation of the turn running in this context (the session sets it per turn task)
SPECULATION: ContextVar[Speculation | None] = ContextVar("samyu_speculation", default=None)


async def speculative_hits(query: str, language: SpokenLanguage, k: int) -> list[Hit] | None:
    """The hits retrieved ahead for this turn when they answer the same query (same content
    words, language and k); None otherwise, and the speculation is discarded."""
    speculation = SPECULATION.get()
    if speculation is None or speculation.outcome != "pending":
        return None
    same = speculation.language == language and speculation.k == k
    if not same or not still_valid(speculation.question, query):
        log.debug("speculative retrieval for %r discarded (asked %r)", speculation.question, query)
        speculation.discard()
        return None
    try:
        hits = await speculation.hits
    except Exception:  # it failed: the turn retrieves as usual
        log.warning("speculative retrieval failed", exc_info=True)
        speculation.discard()
        return None
    speculation.outcome = "reused"
    return hits


async def prefill_done() -> dict[str, float]:
    """Wait for this turn's prefill, if one is reading (the turn's own prompt read would wait
    for it anyway, and it should go to the context that read the prefix). The turn's timings
    of a prefill it kept: "prefill" (its read, ms) and "prefill_wait" (ms the turn waited);
    none for a speculation not reused (its prefix is another question's prompt: discarded)."""
    speculation = SPECULATION.get()
    if speculation is None or speculation.prefill is None:
        return {}
    if speculation.outcome != "reused":
        speculation.discard()
        return {}
    timings: dict[str, float] = {}
    if not speculation.prefill.done():
        started = asyncio.get_running_loop().time()
        try:
            # one that failed is logged by its done callback (Assistant.speculate), once;
            # the turn reads its prompt as usual
            with suppress(Exception):
                await asyncio.shield(speculation.prefill)
        except asyncio.CancelledError:
            if not speculation.prefill.cancelled():
                raise  # the turn itself is cancelled
        timings["prefill_wait"] = round((asyncio.get_running_loop().time() - started) * 1000, 1)
    if speculation.prefill_ms is not None:
        timings["prefill"] = speculation.prefill_ms
    return timings
