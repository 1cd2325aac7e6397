"""Prefill on a stable partial transcript (issue 14): the model reads the answer prompt up to
the question while the caller still speaks, and the turn reads only the rest.

Fakes on a scripted timeline (the prefill held by the test) beside the real embedded model
(the tokens it has already read, counted in its contexts)."""

from __future__ import annotations

import asyncio
import contextvars

from assistant.answerer import Conversation
from assistant.preempt import SPECULATION, Speculation, prefill_done
from assistant.prompts import answer_messages
from assistant.turn import Assistant
from assistant.types import TurnEnd
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
    assert await waiter >= 0 and task.result() is True

    other = asyncio.create_task(prefill())
    reading.clear()
    SPECULATION.set(_speculation(other, "discarded"))
    assert await prefill_done() == 0.0  # no wait: its prefix is not this prompt's
    await asyncio.wait({other})
    assert other.cancelled()


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
