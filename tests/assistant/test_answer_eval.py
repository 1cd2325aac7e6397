"""Scoring of the answer benchmark (pure logic) and the shipped QA files."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.answer_eval import (
    Outcome,
    QAItem,
    contains_gold,
    format_table,
    invented_figures,
    load_qa,
    mispaired_figures,
    score,
    summarise,
)

QA = Path(__file__).resolve().parents[2] / "bench" / "data" / "qa"


def test_gold_figures_match_however_the_answer_writes_them():
    assert contains_gold("A 48-page passport costs HK$460 [1].", ["460"])
    assert contains_gold("48頁護照要四百六十元。", ["460"])
    assert contains_gold("About four thousand one hundred and ninety-five a month.", ["4,195"])
    assert not contains_gold("It costs HK$370.", ["460"])


def test_gold_text_matches_across_scripts():
    assert contains_gold("佢嘅字係廷貞[1]。", ["廷贞"])
    assert contains_gold(
        "The Normans were in Normandy in the 10th and 11th centuries.", ["10th and 11th centuries"]
    )
    assert not contains_gold("佢嘅字係成棟。", ["廷贞"])


def test_invented_figures_are_those_in_no_source():
    outcome = Outcome("q", "en", answer="It costs HK$460 or HK$12,940.", source_texts=["HK$460"])
    assert {int(n) for n in invented_figures(outcome, "How much?")} == {12940}


def test_mispaired_figures_are_each_sourced_but_not_stated_together():
    table = ["32頁護照: 港幣370元\n48頁護照: 港幣460元"]
    wrong = Outcome("q", "yue", answer="48頁護照要370元[1]。", source_texts=table)
    assert {int(n) for n in mispaired_figures(wrong, "48頁護照幾錢？")} == {48, 370}
    assert invented_figures(wrong, "48頁護照幾錢？") == set()  # the older count misses it
    right = Outcome("q", "yue", answer="48頁護照要460元[1]。", source_texts=table)
    assert mispaired_figures(right, "48頁護照幾錢？") == set()


def test_summary_separates_answerable_and_unanswerable_refusals():
    items = [
        QAItem("a", "yue", "48頁護照要幾多錢？", ["460"], True),
        QAItem("b", "yue", "護照速遞要幾多錢？", [], False),
        QAItem("c", "yue", "補領身份證要幾多錢？", ["370"], True),
    ]
    outcomes = [
        Outcome("a", "yue", answer="48頁護照係460元[1]。", source_texts=["460"]),
        Outcome("b", "yue", answer="對唔住，請致電1823熱線查詢。", refused=True),
        Outcome("c", "yue", answer="補領身份證要999元。", fallback="extractive"),
    ]
    table = summarise([score(i, o) for i, o in zip(items, outcomes, strict=True)])
    yue = table[0]
    assert yue["language"] == "yue" and yue["gold"] == "1/2" and yue["gold_model"] == "1"
    assert yue["refused_answerable"] == "0/2" and yue["refused_unanswerable"] == "1/1"
    assert yue["mispaired"] == "0/2"
    assert yue["invented"] == "1/2" and yue["colloquial"] == "1/2" and yue["cited"] == "1/2"
    assert yue["yue_neutral"] == "1/2" and yue["yue_mandarin"] == "0/2"  # 要999元: neither
    assert "refused_unanswerable" in format_table(table)


def test_the_register_of_yue_answers_is_split_three_ways():
    items = [QAItem(x, "yue", "護照要幾多錢？", ["370"], True) for x in "abcd"]
    answers = ["護照係370蚊[1]。", "370元[1]", "護照的費用是370元[1]。", "要370蚊[1]。"]
    outcomes = [Outcome(i.id, "yue", answer=a) for i, a in zip(items, answers, strict=True)]
    yue = summarise([score(i, o) for i, o in zip(items, outcomes, strict=True)])[0]
    assert (yue["colloquial"], yue["yue_neutral"], yue["yue_mandarin"]) == ("2/4", "1/4", "1/4")


def test_a_bad_qa_line_is_a_clear_error(tmp_path):
    path = tmp_path / "qa.jsonl"
    path.write_text('{"language": "en"}\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"qa\.jsonl:1"):
        load_qa(path)


@pytest.mark.parametrize("name", ["demo.jsonl", "public.jsonl"])
def test_shipped_qa_sets_load_with_answerable_and_unanswerable_questions(name):
    items = load_qa(QA / name)
    assert {i.language for i in items} >= {"cmn", "en"}
    assert any(not i.answerable for i in items)
    assert all(i.answers for i in items if i.answerable)
