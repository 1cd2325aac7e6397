"""Minutes from a transcript: the extractive engine on a scripted trilingual meeting, the
model engine's checks (with a scripted generator beside the real one), and the real embedded
model writing minutes whose every item passes the checks."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence

import pytest

from assistant.minutes import extractive_minutes, numbered_lines, write_minutes
from assistant.minutes_config import MinutesSettings
from assistant.types import ChatTurn, GeneratorError
from voices.meeting import MeetingSegment, MeetingTranscript

LINES = [
    ("Mary", "en", "Good morning. Today we review the library opening hours and the budget."),
    ("Peter", "en", "The survey shows 320 people asked for later opening on Saturdays."),
    ("Mary", "en", "We decided to open until 8 pm on Saturdays from March."),
    ("Peter", "en", "I will send the new timetable to all branches by Friday."),
    ("陳大文", "yue", "預算方面，我哋同意將印刷費減少到五萬蚊。"),
    ("陳大文", "yue", "我負責下星期三之前聯絡印刷公司。"),
    ("Mary", "en", "Should we also open on public holidays?"),
    ("李小明", "cmn", "这个问题我们下次会议再讨论吗？"),
]


def meeting() -> MeetingTranscript:
    segments = [
        MeetingSegment(n, n * 10.0, n * 10.0 + 8.0, who, lang, text)
        for n, (who, lang, text) in enumerate(LINES)
    ]
    speakers = list(dict.fromkeys(s.speaker for s in segments))
    return MeetingTranscript(segments, speakers, 80.0, {"en": 50.0, "yue": 16.0, "cmn": 8.0})


def test_extractive_minutes_find_decisions_actions_and_questions() -> None:
    minutes = extractive_minutes(meeting())
    assert [d.segments for d in minutes.decisions] == [[2], [4]]
    actions = {a.segments[0]: a for a in minutes.actions}
    assert set(actions) == {3, 5}
    assert actions[3].who == "Peter" and actions[3].when and "Friday" in actions[3].when
    assert actions[5].who == "陳大文" and actions[5].when and "下星期三" in actions[5].when
    assert {q.segments[0] for q in minutes.questions} == {6, 7}
    # quoted as said, linked to when it was said: nothing invented
    for item in minutes.decisions + minutes.actions + minutes.questions + minutes.summary:
        seg = meeting().segments[item.segments[0]]
        assert item.text == seg.text and item.start == seg.start
    assert minutes.engine == "extractive" and minutes.language == "en"


class ScriptedGenerator:
    """Replies with a fixed text (a stand-in beside the real model test below)."""

    name = "scripted"

    def __init__(self, reply: str, *, fail: bool = False, delay: float = 0.0) -> None:
        self.reply, self.fail, self.delay = reply, fail, delay
        self.prompts: list[str] = []

    async def stream(
        self, messages: Sequence[ChatTurn], *, max_tokens: int, temperature: float
    ) -> AsyncIterator[str]:
        self.prompts.append(messages[-1].content)
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.fail:
            raise GeneratorError("unreachable", "connection refused")
        for part in self.reply.split(" "):
            yield part + " "


def test_model_items_are_checked_against_the_lines_they_cite() -> None:
    reply = "\n".join(
        [
            "SUMMARY: The library will open until 8 pm on Saturdays from March. [2]",
            "DECISION: Open until 8 pm on Saturdays from March [2]",
            "DECISION: Open until 10 pm on Sundays [2]",  # a number the line does not say
            "DECISION: Close the Tai Po branch [99]",  # cites no line of the meeting
            "ACTION: Peter | send the new timetable to all branches | Friday [3]",
            "ACTION: Susan | call the printer | - [5]",  # a name nobody said
            "QUESTION: Open on public holidays? [6]",
            "some chatter the parser must ignore",
        ]
    )
    generator = ScriptedGenerator(reply)
    minutes = asyncio.run(write_minutes(meeting(), generator, MinutesSettings(map_chars=5000)))
    assert "[3] 00:00:30 Peter: I will send" in generator.prompts[0]
    assert [d.text for d in minutes.decisions] == ["Open until 8 pm on Saturdays from March"]
    assert [(a.who, a.when) for a in minutes.actions] == [("Peter", "Friday")]
    assert minutes.actions[0].start == 30.0 and minutes.questions[0].segments == [6]
    assert len(minutes.dropped) == 3 and minutes.engine == "llm:scripted"
    assert any("10" in d for d in minutes.dropped) and any("Susan" in d for d in minutes.dropped)


def test_long_meetings_are_mapped_in_pieces() -> None:
    generator = ScriptedGenerator("SUMMARY: Nothing new. [0]")
    asyncio.run(write_minutes(meeting(), generator, MinutesSettings(map_chars=300)))
    assert len(generator.prompts) >= 2
    assert sum(p.count("\n[") + 1 for p in generator.prompts) >= len(LINES)


def test_a_failing_or_slow_model_falls_back_to_extractive() -> None:
    failed = asyncio.run(write_minutes(meeting(), ScriptedGenerator("", fail=True)))
    assert failed.engine == "extractive" and "connection refused" in failed.note
    assert failed.decisions
    slow = asyncio.run(
        write_minutes(meeting(), ScriptedGenerator("", delay=5.0), MinutesSettings(timeout_s=0.2))
    )
    assert slow.engine == "extractive" and "timed out" in slow.note


def test_numbered_lines_carry_time_and_speaker() -> None:
    assert numbered_lines(meeting().segments[:1]) == [
        "[0] 00:00:00 Mary: Good morning. Today we review the library opening hours and the budget."
    ]


@pytest.mark.slow
def test_the_embedded_model_writes_checked_minutes(embedded_generator) -> None:
    short = meeting()
    short.segments = short.segments[:4]
    settings = MinutesSettings(max_tokens=160, timeout_s=240)
    minutes = asyncio.run(write_minutes(short, embedded_generator, settings))
    assert minutes.engine.startswith("llm:"), minutes.note
    items = minutes.summary + minutes.decisions + minutes.actions + minutes.questions
    for item in items:  # whatever it wrote, nothing kept cites a line that does not exist
        assert set(item.segments) <= {0, 1, 2, 3}
        assert item.start == short.segments[item.segments[0]].start


def test_items_without_line_numbers_are_tied_to_the_line_that_says_them() -> None:
    reply = "\n".join(
        [
            "DECISION: open until 8 pm on Saturdays from March",  # line 2 says it
            "ACTION: Mary | send the new timetable to all branches | Friday",  # Peter said "I will"
            "DECISION: build a new swimming pool",  # nobody said it
        ]
    )
    minutes = asyncio.run(write_minutes(meeting(), ScriptedGenerator(reply)))
    assert [d.segments for d in minutes.decisions] == [[2]]
    assert [(a.segments, a.who) for a in minutes.actions] == [([3], "Peter")]
    assert minutes.dropped == ["DECISION: build a new swimming pool (no transcript line says it)"]
