"""Collecting the events of one turn for assertions."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from assistant.types import (
    AnswerDelta,
    AnswerSentence,
    Source,
    SourcesFound,
    TurnEnd,
    TurnError,
    TurnEvent,
)


@dataclass
class Turn:
    events: list[TurnEvent] = field(default_factory=list)

    @property
    def sources(self) -> list[Source]:
        found = [e for e in self.events if isinstance(e, SourcesFound)]
        return found[-1].sources if found else []

    @property
    def sentences(self) -> list[str]:
        return [e.text for e in self.events if isinstance(e, AnswerSentence)]

    @property
    def display(self) -> str:
        return "".join(e.delta for e in self.events if isinstance(e, AnswerDelta))

    @property
    def end(self) -> TurnEnd:
        ends = [e for e in self.events if isinstance(e, TurnEnd)]
        assert len(ends) == 1 and self.events[-1] is ends[0], self.events
        return ends[0]

    @property
    def error(self) -> TurnError | None:
        errors = [e for e in self.events if isinstance(e, TurnError)]
        return errors[0] if errors else None


async def collect(events: AsyncIterator[TurnEvent]) -> Turn:
    turn = Turn()
    async for event in events:
        turn.events.append(event)
    return turn
