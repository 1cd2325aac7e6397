"""Short acknowledgements during an answer are not a new turn; real words are."""

from __future__ import annotations

import pytest

from assistant.stages.acknowledgement import is_acknowledgement


@pytest.mark.parametrize(
    "text", ["嗯", "嗯嗯", "係", "係呀", "好", "好的", "OK", "ok ok", "Yeah.", "uh-huh", "對"]
)
def test_acknowledgements(text: str) -> None:
    assert is_acknowledgement(text)


@pytest.mark.parametrize(
    "text", ["", "   ", "唔該", "what about children", "好唔好", "ok but how much", "係咪要預約"]
)
def test_questions_and_nothing_are_not(text: str) -> None:
    assert not is_acknowledgement(text)


def test_the_words_are_configurable() -> None:
    assert not is_acknowledgement("明白", ["ok"])
    assert is_acknowledgement("roger", ["roger"])
