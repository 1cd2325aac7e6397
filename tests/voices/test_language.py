"""The yue | cmn | en rule and the output script."""

from __future__ import annotations

import pytest

from voices.config import LanguageSettings
from voices.language import (
    AcousticVote,
    cantonese_markers,
    cantonese_written_forms,
    decide_language,
    han_share,
    history_language,
    to_script,
)


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
        ("我想申请身份证", "zh", {"history": ["cmn", "cmn", "yue"]}, "yue"),
        # the most recent Chinese utterance counts, not the majority: a switch is followed
        ("我想申请身份证", "zh", {"history": ["yue", "yue", "cmn"]}, "cmn"),
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


SURE_YUE = AcousticVote(score=3.0, confident=True)
SURE_CMN = AcousticVote(score=-2.0, confident=True)
UNSURE_YUE = AcousticVote(score=0.5, confident=False)


def test_a_confident_acoustic_vote_decides_without_hint() -> None:
    assert decide_language("我想申请身份证", "zh", acoustic=SURE_YUE) == "yue"
    assert decide_language("我想申请身份证", "zh", acoustic=SURE_CMN) == "cmn"


def test_one_clear_utterance_overrides_the_session_history() -> None:
    cantonese_session = ["yue", "yue", "yue", "yue", "yue"]
    assert decide_language("我想申请身份证", "zh", history=cantonese_session) == "yue"
    switched = decide_language("我想申请身份证", "zh", history=cantonese_session, acoustic=SURE_CMN)
    assert switched == "cmn"
    # ...and the next unclear utterance follows the switch, not the older majority
    assert decide_language("我想申请身份证", "zh", history=[*cantonese_session, "cmn"]) == "cmn"
    # text markers are a clear utterance too
    assert decide_language("你哋幾點開門", "zh", history=["cmn"] * 5) == "yue"


def test_an_unsure_vote_leaves_it_to_the_history_then_the_unsure_default() -> None:
    unsure_cmn = AcousticVote(score=-0.2, confident=False)
    assert decide_language("我想申请身份证", "zh", history=["cmn"], acoustic=UNSURE_YUE) == "cmn"
    assert decide_language("我想申请身份证", "zh", history=["yue"], acoustic=unsure_cmn) == "yue"
    # no history: an unsure vote becomes unsure_vote_chinese (yue), text alone default_chinese
    assert decide_language("我想申请身份证", "zh", acoustic=unsure_cmn) == "yue"
    assert decide_language("我想申请身份证", "zh") == "cmn"
    mandarin_line = LanguageSettings(unsure_vote_chinese="cmn")
    assert (
        decide_language("我想申请身份证", "zh", acoustic=UNSURE_YUE, settings=mandarin_line)
        == "cmn"
    )


def test_the_callers_hint_beats_the_acoustic_vote_but_not_markers() -> None:
    assert decide_language("我想申请身份证", "zh", hint="yue", acoustic=SURE_CMN) == "yue"
    assert decide_language("我唔明", "zh", hint="cmn", acoustic=SURE_CMN) == "yue"


def test_a_decisive_acoustic_vote_beats_the_declared_language() -> None:
    # a caller who chose 普通話 in the widget and speaks Cantonese (no marker in the text)
    decisive_yue = AcousticVote(score=9.0, confident=True, decisive=True)
    decisive_cmn = AcousticVote(score=-9.0, confident=True, decisive=True)
    assert decide_language("我想申请身份证", "zh", hint="cmn", acoustic=decisive_yue) == "yue"
    assert decide_language("我想申请身份证", "zh", hint="yue", acoustic=decisive_cmn) == "cmn"
    # markers still beat a decisive Mandarin vote
    assert decide_language("我唔明", "zh", hint="cmn", acoustic=decisive_cmn) == "yue"


def test_history_language_is_the_last_chinese_label() -> None:
    assert history_language([]) is None
    assert history_language(["en"]) is None
    assert history_language(["yue", "cmn", "en"]) == "cmn"


@pytest.mark.parametrize(
    ("heard", "written"),
    [
        ("我食左飯", "我食咗飯"),
        ("我去左銀行", "我去咗銀行"),
        ("向左轉", "向左轉"),  # left stays left
        ("左邊個門", "左邊個門"),
        ("佢系我朋友", "佢係我朋友"),
        ("系統關係", "系統關係"),
        ("佢過黎", "佢過嚟"),
        ("黎明", "黎明"),  # a name
        ("咩野", "咩嘢"),
        ("好D", "好啲"),
        ("D嘢", "啲嘢"),
        ("我用iPad", "我用iPad"),
        ("3D打印", "3D打印"),
    ],
)
def test_colloquial_cantonese_forms(heard: str, written: str) -> None:
    assert cantonese_written_forms(heard) == written


def test_the_colloquial_particle_sai_survives_the_hk_script() -> None:
    assert to_script("唔该晒", "yue") == "唔該晒"
    assert to_script("多謝晒", "yue") == "多謝晒"
    assert to_script("晒太阳", "yue") == "曬太陽"  # to sun-dry keeps its own character


def testhan_share_counts_letters_only() -> None:
    assert han_share("慢啲云") == 1.0
    assert han_share("我。") == 1.0  # punctuation is not a letter
    assert han_share("。") == 0.0
    assert han_share("") == 0.0
    assert 0.1 < han_share("係咗 telephone") < 0.5
