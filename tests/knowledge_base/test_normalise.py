from __future__ import annotations

from knowledge_base.normalise import (
    fold_width,
    for_matching,
    other_script_variants,
    script_tag,
    to_simplified,
)


def test_script_tags() -> None:
    assert script_tag("How do I replace my identity card?") == "en"
    assert script_tag("點樣補領身份證？") == "zh-Hant"
    assert script_tag("怎么补领身份证？") == "zh-Hans"


def test_hk_traditional_folds_to_simplified_and_cantonese_stays_text() -> None:
    assert to_simplified("補領身份證") == "补领身份证"
    folded = to_simplified("我喺邊度補領咗嘅身份證係唔係")
    for char in "喺咗嘅唔":
        assert char in folded  # Cantonese written forms are kept, not dropped


def test_width_folding() -> None:
    assert fold_width("ＨＫ＄３７０") == "HK$370"
    assert for_matching("ＰＡＳＳＰＯＲＴ 護照") == "passport 护照"


def test_other_script_variants() -> None:
    assert other_script_variants("补领身份证") == ["補領身份證"]
    assert other_script_variants("passport") == []


def test_colloquial_cantonese_reads_as_standard_written_chinese_for_matching() -> None:
    from knowledge_base.normalise import cantonese_to_written

    assert cantonese_to_written("長者兩蚊搭車使唔使申請？") == "長者兩元乘車需不需要申請？"
    assert for_matching("點樣補領") == "怎样补领"
    assert for_matching("點樣補領", fold_cantonese=False) == "点样补领"


def test_script_conversion_keeps_lone_surrogates_instead_of_raising() -> None:
    from knowledge_base.normalise import to_simplified, to_traditional_hk

    assert to_simplified("護照 \ud800 費用") == "护照 \ud800 费用"
    assert to_traditional_hk("护照\udfff费用") == "護照\udfff費用"
