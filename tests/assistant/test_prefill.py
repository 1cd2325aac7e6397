"""Prefill on a stable partial transcript (issue 14): the model reads the answer prompt up to
the question while the caller still speaks, and the turn reads only the rest.

Fakes on a scripted timeline (the prefill held by the test) beside the real embedded model
(the tokens it has already read, counted in its contexts)."""

from __future__ import annotations

import asyncio
import contextvars
import logging
import threading
from collections.abc import Sequence

import assistant.answerer as answerer_module
from assistant.answerer import Conversation
from assistant.preempt import SPECULATION, Speculation, prefill_done
from assistant.prompts import answer_messages
from assistant.turn import Assistant
from assistant.types import ChatTurn, TurnEnd
from tests.fakes import FakeGenerator, PrefillingGenerator, fake_assistant

PARTIAL = "How much is the passport fee"
FINAL = "How much is the passport fee?"


async def run_turn(assistant: Assistant, question: str, speculation: Speculation) -> list:
    async def turn() -> list:
        SPECULATION.set(speculation)  # as the session does for the turn's task
        return [
            e
            async for e in assistant.answer(
                question, language="en", collection="demo", conversation=Conversation()
            )
        ]

    return await asyncio.create_task(turn(), context=contextvars.copy_context())


async def test_the_prefilled_prefix_is_the_start_of_the_turns_prompt(fake_kb) -> None:
    generator = PrefillingGenerator.replying("Passport fees are listed on the page [1].")
    assistant = fake_assistant(fake_kb, generator)
    speculation = assistant.speculate(PARTIAL, collection="demo", language="en")
    assert speculation.prefill is not None and await speculation.prefill
    events = await run_turn(assistant, FINAL, speculation)
    assert speculation.outcome == "reused" and isinstance(events[-1], TurnEnd)
    assert events[-1].timings["prefill"] >= 0  # the turn says its prompt was read ahead
    (prefix,) = generator.prefilled
    asked = generator.requests[-1]
    assert prefix[0] == asked[0]  # the same system prompt
    assert asked[1].content.startswith(prefix[1].content)  # the same evidence, then the question
    assert FINAL in asked[1].content and PARTIAL not in prefix[1].content


async def test_no_prefill_for_a_question_the_gate_refuses_or_when_turned_off(fake_kb) -> None:
    generator = PrefillingGenerator()
    speculation = fake_assistant(fake_kb, generator).speculate(
        "Qwertyuiop zxcvbnm asdfghjkl", collection="demo", language="en"
    )
    assert speculation.prefill is not None and not await speculation.prefill
    off = fake_assistant(fake_kb, generator, prefill_partials=False)
    assert off.speculate(PARTIAL, collection="demo", language="en").prefill is None
    plain = fake_assistant(fake_kb, FakeGenerator())  # an engine that cannot prefill
    assert plain.speculate(PARTIAL, collection="demo", language="en").prefill is None
    assert generator.prefilled == []


def _speculation(prefill: asyncio.Task[bool], outcome: str) -> Speculation:
    hits = asyncio.get_running_loop().create_future()
    hits.set_result([])
    speculation = Speculation(PARTIAL, "en", 3, hits, outcome=outcome)  # type: ignore[arg-type]
    speculation.prefill = prefill
    return speculation


async def test_the_turn_waits_for_its_prefill_and_not_for_another_questions() -> None:
    reading = asyncio.Event()

    async def prefill() -> bool:
        await reading.wait()
        return True

    task = asyncio.create_task(prefill())
    SPECULATION.set(_speculation(task, "reused"))
    waiter = asyncio.create_task(prefill_done(), context=contextvars.copy_context())
    await asyncio.sleep(0)  # one turn of the loop: the waiter is now waiting
    await asyncio.sleep(0)
    assert not waiter.done()
    reading.set()
    assert (await waiter)["prefill_wait"] >= 0 and task.result() is True

    other = asyncio.create_task(prefill())
    reading.clear()
    SPECULATION.set(_speculation(other, "discarded"))
    assert await prefill_done() == {}  # no wait: its prefix is not this prompt's
    await asyncio.wait({other})
    assert other.cancelled()


async def test_discarding_a_speculation_stops_its_prefill_too() -> None:
    """One cancel path: a prefill already past its hits is stopped by `discard()` itself."""
    reading = asyncio.Event()

    async def prefill() -> bool:
        await reading.wait()
        return True

    task = asyncio.create_task(prefill())
    speculation = _speculation(task, "pending")
    await asyncio.sleep(0)  # the prefill is reading
    speculation.discard()
    await asyncio.wait({task}, timeout=5)  # (the timeout only bounds a failure)
    reading.set()
    assert task.cancelled() and speculation.outcome == "discarded"


async def test_a_discarded_prefill_gives_the_turn_no_prefill_timing(fake_kb) -> None:
    """A prefill read for another question's prompt describes nothing of this turn."""
    generator = PrefillingGenerator.replying(
        "A lost card is replaced at a registration office [1]."
    )
    assistant = fake_assistant(fake_kb, generator)
    speculation = assistant.speculate(PARTIAL, collection="demo", language="en")
    assert speculation.prefill is not None and await speculation.prefill
    assert speculation.prefill_ms is not None  # it read the passport prompt
    events = await run_turn(assistant, "How do I replace a lost identity card?", speculation)
    assert speculation.outcome == "discarded" and isinstance(events[-1], TurnEnd)
    assert events[-1].answer  # the turn was answered, by the model
    assert "prefill" not in events[-1].timings and "prefill_wait" not in events[-1].timings


class FailingPrefill(PrefillingGenerator):
    """Its prefill fails once the test lets it finish (`finish`, set from the loop)."""

    def __init__(self) -> None:
        super().__init__()
        self.finish = threading.Event()

    def prefill(self, messages: Sequence[ChatTurn]) -> int:
        assert self.finish.wait(timeout=10)
        raise RuntimeError("the prefill broke")


async def test_a_failed_prefill_is_logged_once_and_the_turn_answers(
    fake_kb, monkeypatch, caplog
) -> None:
    generator = FailingPrefill()
    assistant = fake_assistant(fake_kb, generator)

    async def finish_then_wait() -> dict[str, float]:
        generator.finish.set()  # the read cannot end before this turn waits on it (one loop)
        return await prefill_done()

    monkeypatch.setattr(answerer_module, "prefill_done", finish_then_wait)
    speculation = assistant.speculate(PARTIAL, collection="demo", language="en")
    with caplog.at_level(logging.WARNING):
        events = await run_turn(assistant, FINAL, speculation)
    assert speculation.outcome == "reused" and isinstance(events[-1], TurnEnd)
    assert events[-1].answer and "prefill" not in events[-1].timings  # no read to report
    assert events[-1].timings["prefill_wait"] >= 0  # the turn did wait for it
    failed = [r for r in caplog.records if "prefill failed" in r.getMessage()]
    assert len(failed) == 1, [r.getMessage() for r in failed]


async def test_a_prefilled_partial_leaves_only_the_question_to_read(assistant) -> None:
    """Real model: after the prefill, a context already holds all of the turn's prompt but
    the question and the chat template's closing tokens."""
    from assistant.generators.chat_model import to_langchain
    from assistant.generators.llama_cpp import _common_prefix

    question = "How much is a 48-page passport?"
    speculation = assistant.speculate(question[:-1], collection="mini", language="en")
    assert speculation.prefill is not None and await speculation.prefill
    hits = await speculation.hits
    model = assistant.generator.chat_model
    sources = assistant.answerer._prompt_sources(question, hits)
    messages = answer_messages(question, sources, "en", hotline=assistant.settings.hotline)
    tokens, _stop, _system = model.prompt_tokens(to_langchain(messages))
    read = max(_common_prefix(c.evaluated(), tokens) for c in model._contexts)
    assert len(tokens) - read <= 24, (len(tokens), read)  # "Question: ...\nAnswer in English:"
    assert len(tokens) > 150  # there was a real prompt to read ahead

    async def turn() -> TurnEnd:
        SPECULATION.set(speculation)
        events = [
            e
            async for e in assistant.answer(
                question, language="en", collection="mini", conversation=Conversation()
            )
        ]
        return events[-1]

    end = await asyncio.create_task(turn(), context=contextvars.copy_context())
    assert speculation.outcome == "reused"
    assert "460" in end.answer
