"""The language decision: a clear heard language wins, else the caller's anchor stays."""

from __future__ import annotations

from assistant.stages.language import decide_language
from voices.config import LanguageSettings


def test_a_declared_language_holds_against_a_word_or_two_of_english() -> None:
    assert decide_language("OK", declared="yue", heard="en") == "yue"
    assert decide_language("Thank you", declared="cmn", heard="en") == "cmn"


def test_a_clear_english_utterance_beats_the_declared_language() -> None:
    assert decide_language("How much is a passport?", declared="yue", heard="en") == "en"


def test_a_chinese_label_that_differs_from_the_declared_one_wins() -> None:
    # the recogniser only overrules the declared hint on markers or a decisive acoustic vote
    assert decide_language("我想續領護照", declared="cmn", heard="yue") == "yue"
    assert decide_language("我想续签护照", declared="yue", heard="cmn") == "cmn"


def test_chinese_after_an_english_declaration_needs_more_than_one_character() -> None:
    assert decide_language("好", declared="en", heard="cmn") == "en"
    assert decide_language("护照要多少钱", declared="en", heard="cmn") == "cmn"


def test_what_the_recogniser_heard_decides_with_no_anchor() -> None:
    assert decide_language("護照幾多錢", declared=None, heard="cmn") == "cmn"
    assert decide_language("OK", declared=None, heard="en") == "en"


def test_a_caller_who_switches_is_followed_after_one_clear_utterance() -> None:
    # the session passes the conversation's language as `previous`; each turn's result becomes
    # the next turn's previous, as the live session does
    turns = [
        ("護照幾多錢？", "yue"),
        ("OK", "en"),  # too short to switch: stays Cantonese
        ("I would like to renew my passport please", "en"),  # clear: switches at once
        ("Sure", "en"),
        ("我想问一下护照", "cmn"),  # clear Chinese: switches back at once
        ("好", "cmn"),
    ]
    previous = None
    got = []
    for text, heard in turns:
        previous = decide_language(text, declared=None, heard=heard, previous=previous)
        got.append(previous)
    assert got == ["yue", "yue", "en", "en", "cmn", "cmn"]


def test_the_switch_threshold_is_a_setting() -> None:
    one_word = LanguageSettings(min_switch_words=1)
    assert decide_language("OK", declared="yue", heard="en", settings=one_word) == "en"


def test_typed_text_is_guessed_from_its_script_and_words() -> None:
    assert decide_language("How much is a passport?", declared=None) == "en"
    assert decide_language("护照要多少钱？", declared=None) == "cmn"
    assert decide_language("護照幾多錢？", declared=None) == "yue"
    assert decide_language("好", declared=None, previous="cmn") == "cmn"  # common to both


def test_typed_text_keeps_the_declared_language() -> None:
    assert decide_language("How much?", declared="yue") == "yue"
