from __future__ import annotations

import pytest

from knowledge_base.query import chinese_numeral_value, expansions, strip_fillers, understand


@pytest.mark.parametrize(
    ("spoken", "question"),
    [
        ("唔該，我想問下，呢個即係長者咭點樣申請呀？", "長者咭點樣申請？"),
        ("喂，唔好意思，我想問一問續領身份證要幾多錢㗎？", "續領身份證要幾多錢？"),
        ("請問一下，護照幾耐有效？", "護照幾耐有效？"),
        (
            "um, so I wanted to ask, like, how do I renew my passport?",
            "how do I renew my passport?",
        ),
        ("So, uh, what is the fee, you know?", "what is the fee?"),
    ],
)
def test_spoken_fillers_are_stripped(spoken: str, question: str) -> None:
    assert strip_fillers(spoken) == question


def test_content_words_and_cantonese_forms_stay() -> None:
    # 嘅 係 唔 咗 喺 are text, not noise; a question made only of fillers is left whole
    assert strip_fillers("我係咪唔使喺網上交表？") == "我係咪唔使喺網上交表？"
    assert strip_fillers("佢嘅身份證唔見咗") == "佢嘅身份證唔見咗"
    assert strip_fillers("嗯") == "嗯"
    assert strip_fillers("what is a sort code") == "what is a sort code"


@pytest.mark.parametrize(
    ("numeral", "value"),
    [("六十五", 65), ("十一", 11), ("一百二十", 120), ("兩萬五千", 25000), ("一千零五", 1005)],
)
def test_chinese_numerals(numeral: str, value: int) -> None:
    assert chinese_numeral_value(numeral) == value


def test_numbers_are_added_in_digits_only_where_they_count_something() -> None:
    assert "65" in expansions("我阿媽六十五歲，可唔可以申請？")
    assert "2" in expansions("兩蚊乘車優惠")
    assert "12" in expansions("第十二期")
    assert expansions("一般來說") == []  # 一 inside a word is not a number
    assert expansions("三個子行業") == [] and expansions("two examples") == []  # small counts
    assert "65" in expansions("I am sixty-five years old")


def test_hk_names_are_expanded_in_full_and_across_languages() -> None:
    extra = expansions("入境處喺邊度？")
    assert "入境事務處" in extra and "Immigration Department" in extra
    assert "旺角" in expansions("the office in Mong Kok")


def test_understand_keeps_the_question_and_adds_expansions_for_bm25_only() -> None:
    understood = understand("唔該，我阿爸六十五歲，生果金幾多錢呀？")
    assert understood.semantic == "我阿爸六十五歲，生果金幾多錢？"
    assert understood.lexical.startswith(understood.semantic)
    assert "65" in understood.lexical and "高齡津貼" in understood.lexical


def test_numbers_with_commas_are_left_whole() -> None:
    assert strip_fillers("um, is 1,000 dollars enough, you know?") == "is 1,000 dollars enough?"
    assert (
        strip_fillers("phosphatidylinositol-3,4-biphosphate")
        == "phosphatidylinositol-3,4-biphosphate"
    )
