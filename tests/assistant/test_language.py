import pytest

from assistant.language import guess_language, is_colloquial_cantonese, matches_language, to_script


@pytest.mark.parametrize(
    ("text", "hint", "expected"),
    [
        ("How much is a passport?", None, "en"),
        ("護照幾多錢？", None, "yue"),
        ("护照费用是多少？", None, "cmn"),
        ("咁小朋友呢？", None, "yue"),
        ("护照费用是多少？", "yue", "cmn"),  # Simplified script beats the previous turn's hint
        ("護照費用是多少？", "cmn", "yue"),
        ("身份", "cmn", "cmn"),  # same in both scripts: the hint decides
        ("HK$370 護照", None, "yue"),
    ],
)
def test_typed_question_language(text, hint, expected):
    assert guess_language(text, hint) == expected


def test_answers_are_put_in_the_callers_script():
    assert to_script("护照费用为370元", "yue") == "護照費用為370元"
    assert to_script("護照費用為370元", "cmn") == "护照费用为370元"
    assert to_script("The fee", "en") == "The fee"


def test_language_and_script_checks():
    assert matches_language("護照費用為370元。", "yue")
    assert not matches_language("护照费用为370元。", "yue")
    assert matches_language("护照费用为370元。", "cmn")
    assert not matches_language("The fee is HK$370.", "cmn")
    assert matches_language("The fee is HK$370.", "en")
    assert is_colloquial_cantonese("護照唔使錢嘅")
    assert not is_colloquial_cantonese("護照費用為370元")
