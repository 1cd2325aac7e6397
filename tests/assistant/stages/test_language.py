"""The language decision: declared, else heard, else guessed from the text."""

from __future__ import annotations

from assistant.stages.language import decide_language


def test_the_declared_language_wins() -> None:
    assert decide_language("How much?", declared="yue", heard="en") == "yue"


def test_what_the_recogniser_heard_comes_next() -> None:
    assert decide_language("護照幾多錢", declared=None, heard="cmn") == "cmn"


def test_typed_text_is_guessed_from_its_script_and_words() -> None:
    assert decide_language("How much is a passport?", declared=None) == "en"
    assert decide_language("护照要多少钱？", declared=None) == "cmn"
    assert decide_language("護照幾多錢？", declared=None) == "yue"
    assert decide_language("好", declared=None, previous="cmn") == "cmn"  # common to both
