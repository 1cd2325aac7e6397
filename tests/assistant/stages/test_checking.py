"""Sentence checking: the first problem of an answer sentence, or None."""

from __future__ import annotations

from assistant.prompts import PromptSource
from assistant.stages.checking import SentenceChecker, degenerate, repeats_question, restates

SOURCES = [PromptSource(1, "Passport fees", "An adult passport costs HK$1,260 (32 pages).")]


def checker(language="en", question="How much is a passport?") -> SentenceChecker:
    return SentenceChecker(language, question, SOURCES, ["You answer citizens' questions"])


def test_a_grounded_sentence_passes() -> None:
    assert checker().problem("An adult passport costs HK$1,260 [1].") is None


def test_invented_numbers_wrong_language_and_echoes_fail() -> None:
    assert checker().problem("It costs HK$900 [1].") == "ungrounded"
    assert checker().problem("護照的費用請參閱入境事務處的網頁，請留意。") == "wrong_language"
    assert checker().problem("How much is a passport?") == "prompt_echo"


def test_loops_and_copied_headings() -> None:
    assert degenerate("裴累裴累裴累裴累裴累裴累裴累裴累")
    assert not degenerate("An adult passport costs HK$1,260.")
    assert repeats_question("How much is a passport?", "how much is a passport")
    assert checker().copies_scaffold("[1] Passport fees")


def test_bind_figures_fails_a_clause_pairing_figures_of_two_rows() -> None:
    table = [PromptSource(1, "護照收費", "32頁護照: 港幣370元\n48頁護照: 港幣460元")]

    def passport(bind: bool) -> SentenceChecker:
        return SentenceChecker("yue", "48頁護照幾錢？", table, ["你係"], bind_figures=bind)

    assert passport(True).problem("48頁護照要370元。") == "unbound"
    assert passport(False).problem("48頁護照要370元。") is None  # the setting off: as before
    assert passport(True).check("48頁護照要460元。") == ("48頁護照要460元[1]。", None)


def test_a_partial_sentence_is_held_for_its_language_at_any_length_and_for_a_bare_figure() -> None:
    """What Release asks of a clause said before its sentence ends (`partial`), and what a
    whole sentence is spared."""
    english = checker()
    assert english.check("護照費用，", partial=True)[1] == "wrong_language"
    assert english.problem("護照費用，") is None  # a whole sentence: under 12 characters
    assert english.check("1,260,", partial=True)[1] == "bare_figure"
    assert english.problem("1,260.") is None
    assert english.check("An adult passport costs HK$1,260,", partial=True)[1] is None


# ---- the same fact said twice ------------------------------------------------------------

FIRST = "身份證遺失、被竊或損毀，須喺30日內向人事登記辦事處申請補領，費用為港幣370元[1]。"


def test_a_sentence_that_restates_an_earlier_one_is_a_repeat() -> None:
    # the same fee from a second source, in mostly the same words (demo-yue-02)
    again = "補領身份證嘅費用為港幣370元，不論身份證係遺失、被竊、損壞或塗污，收費相同[2]。"
    assert restates(again, [FIRST])
    assert restates(FIRST, [FIRST])  # word for word
    assert restates("補领身份证的费用为港币370元[2]。", [FIRST])  # scripts folded
    assert restates("The fee is HK$370 [2].", ["A replacement costs HK$370, the fee [1]."])


def test_a_sentence_that_adds_a_fact_is_not_a_repeat() -> None:
    assert not restates("新證一般喺10個工作天後可以領取[1]。", [FIRST])  # a new figure
    # the same figure, mostly other words: who must apply, and for which losses
    other = "如果香港身份證遺失、被竊、毀滅或損壞，持證人必須喺30日內申請補領[2]。"
    assert not restates(other, [FIRST])
    free = "Registration within this period is free [1]."
    assert not restates(free, ["Register within 42 days [1]."])
    assert not restates(FIRST, [])
    assert not restates(FIRST, [FIRST], min_share=1.01)  # the setting above 1: off


def test_section_headings_of_the_sources_are_scaffolding_and_glued_ones_are_dropped() -> None:
    sources = [PromptSource(1, "補領身份證", "費用\n補領身份證的費用為港幣370元。\n時限")]
    check = SentenceChecker("yue", "補領身份證要幾多錢？", sources, ["你係"])
    assert check.headings == ["費用", "時限"]
    assert check.copies_scaffold("費用[1]")
    assert check.check("費用[1]補領身份證嘅費用為港幣370元。") == (
        "補領身份證嘅費用為港幣370元[1]。",
        None,
    )
    assert check.copies_scaffold("[1] 補領身份證")  # a title alone
