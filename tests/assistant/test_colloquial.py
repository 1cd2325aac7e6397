"""Written Chinese to spoken Cantonese (pure logic, no model)."""

from __future__ import annotations

import pytest

from assistant.colloquial import is_colloquial, mandarin_only_forms, to_colloquial


@pytest.mark.parametrize(
    ("written", "spoken"),
    [
        ("護照的費用是370元[1]。", "護照嘅費用係370元[1]。"),
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
