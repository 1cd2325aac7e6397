"""The yue | cmn | en rule and the output script."""

from __future__ import annotations

import pytest

from voices.config import LanguageSettings
from voices.language import cantonese_markers, decide_language, to_script


@pytest.mark.parametrize(
    ("text", "whisper", "kwargs", "expected"),
    [
        ("What documents do I need?", "en", {}, "en"),
        ("我想申请身份证", "zh", {}, "cmn"),
        ("我想申請身份證", "zh", {}, "cmn"),  # Traditional script alone is not Cantonese
        ("我想問下點樣申請身份證", "zh", {}, "yue"),  # 點樣
        ("佢哋喺邊度", "zh", {}, "yue"),
        ("你係咪要續期", "zh", {}, "yue"),  # 係 as the verb
        ("这个关系很好", "zh", {}, "cmn"),  # 关系 is not the Cantonese 係
        ("這個關係很好", "zh", {}, "cmn"),
        ("我要renew我嘅HKID", "en", {}, "yue"),  # code-switched: Chinese label
        ("yesterday was 星期一", "en", {}, "cmn"),
        ("我想申请身份证", "zh", {"hint": "yue"}, "yue"),
        ("我想申请身份证", "zh", {"hint": "cmn"}, "cmn"),
        ("我想申请身份证", "zh", {"hint": "en"}, "cmn"),  # content beats an en hint
        ("唔該幫我", "zh", {"hint": "cmn"}, "yue"),  # markers beat a cmn hint
        ("我想申请身份证", "zh", {"history": ["yue", "yue", "cmn"]}, "yue"),
        ("我想申请身份证", "zh", {"history": ["cmn", "en"]}, "cmn"),
        ("我想申请身份证", "yue", {}, "yue"),  # large-v3's own yue token
        ("How much is it?", "zh", {"hint": "yue"}, "en"),
        ("...", "zh", {}, "cmn"),
        ("...", "ja", {"hint": "yue"}, "yue"),
    ],
)
def test_decide_language(text, whisper, kwargs, expected) -> None:
    assert decide_language(text, whisper, **kwargs) == expected


def test_default_chinese_is_configurable() -> None:
    settings = LanguageSettings(default_chinese="yue")
    assert decide_language("我想申请身份证", "zh", settings=settings) == "yue"


def test_weak_markers_alone_do_not_make_cantonese() -> None:
    assert cantonese_markers("这样嘛") == []
    assert "嘅" in cantonese_markers("我嘅嘛")


def test_scripts_follow_the_language() -> None:
    assert to_script("这几个字都表达不到我想讲的意思", "yue") == "這幾個字都表達不到我想講的意思"
    assert to_script("這幾個字都表達不到", "cmn") == "这几个字都表达不到"
    assert to_script("后来", "yue") == "後來"
    assert to_script("Hello 后来", "en") == "Hello 后来"


def test_scripts_are_configurable() -> None:
    taiwan = LanguageSettings(cmn_opencc="s2twp")
    assert to_script("软件", "cmn", taiwan) == "軟體"
