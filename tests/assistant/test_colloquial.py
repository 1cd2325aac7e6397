"""Written Chinese to spoken Cantonese (pure logic, no model)."""

from __future__ import annotations

import pytest

from assistant.colloquial import (
    is_colloquial,
    is_fragment,
    mandarin_only_forms,
    register,
    spoken_fragment,
    to_colloquial,
)


@pytest.mark.parametrize(
    ("written", "spoken"),
    [
        ("護照的費用是370元[1]。", "護照嘅費用係370蚊[1]。"),
        ("如果你沒有身份證，就不能申請。", "如果你冇身份證，就唔可以申請。"),
        ("他們在入境事務處辦理了手續。", "佢哋喺入境事務處辦理咗手續。"),
        ("這個是什麼？", "呢個係乜嘢？"),
        ("申請已經完成了。", "申請已經完成喇。"),
    ],
)
def test_written_forms_become_spoken(written, spoken):
    assert to_colloquial(written) == spoken


def test_words_that_keep_their_written_sense_are_left_alone():
    text = "不過你需要了解申請的目的，費用概不退還。"
    spoken = to_colloquial(text)
    for kept in ("不過", "了解", "目的", "概不退還"):
        assert kept in spoken
    assert "嘅目的" in spoken


def test_titles_citations_and_figures_are_not_touched():
    text = "根據《不是的手冊》，費用是HK$1,000 [2]。"
    assert to_colloquial(text) == "根據《不是的手冊》，費用係HK$1,000 [2]。"


def test_the_measure_of_a_colloquial_answer():
    written = "護照的費用是370元。"
    assert mandarin_only_forms(written) == ["的", "是"]
    assert not is_colloquial(written)
    assert is_colloquial(to_colloquial(written))
    assert not is_colloquial("護照費用370元。")  # no Cantonese form at all


def test_a_bare_amount_is_said_in_man_and_a_named_currency_is_left_as_written():
    assert to_colloquial("每份140元，共1.5萬元。") == "每份140蚊，共1.5萬蚊。"
    assert to_colloquial("費用為港幣370元。") == "費用為港幣370元。"  # the voice says 蚊
    assert to_colloquial("人民幣100元。") == "人民幣100元。"
    assert to_colloquial("首100元免費，全年元旦。") == "首100蚊免費，全年元旦。"
    assert to_colloquial("搭68元朗線，車費10元。") == "搭68元朗線，車費10蚊。"  # a place


@pytest.mark.parametrize(
    ("answer", "question", "spoken"),
    [
        ("140蚊[1]", "出世紙核證副本要幾多錢一份？", "要140蚊[1]。"),
        ("1948年[1]", "瞿希賢哪一年畢業？", "係1948年[1]。"),
        ("銀漢魚科[1]", "凡氏下銀漢魚是什麼科的魚類？", "係銀漢魚科[1]。"),
        ("潮語[1]。", "流行語又被稱作什麼？", "係潮語[1]。"),
    ],
)
def test_a_bare_fragment_becomes_a_short_spoken_sentence(answer, question, spoken):
    assert is_fragment(answer)
    assert spoken_fragment(answer, question) == spoken
    assert is_colloquial(spoken)


@pytest.mark.parametrize(
    "sentence",
    [
        "流行語被稱作潮語[1]。",  # a sentence: its verb is there
        "駕駛執照過期後繼續駕駛屬違法，請準時續期[1]。",
        "費用係370蚊[1]。",  # already Cantonese
        "根據《遲子建》，2008年[1]。",
        "須喺30日內申請[1]。",
        "輻鰭魚綱銀漢魚目銀漢魚科[1]",  # too long to tell a name from a clause
    ],
)
def test_a_sentence_is_not_a_fragment(sentence):
    assert not is_fragment(sentence)
    assert spoken_fragment(sentence, "要幾多錢？") == sentence


def test_the_register_of_an_answer_is_one_of_three():
    assert register("護照嘅費用係370蚊。") == "cantonese"
    assert register("要140蚊[1]。") == "cantonese"  # an amount in 蚊 is a Cantonese form
    assert register("流行語被稱作潮語[1]。") == "neutral"
    assert register("140元[1]") == "neutral"
    assert register("護照的費用是370元。") == "mandarin"
    assert register("佢嘅護照是新的。") == "mandarin"  # Cantonese forms beside Mandarin ones
    assert not is_colloquial("蚊子很多")  # 蚊 alone is a mosquito, not a dollar
