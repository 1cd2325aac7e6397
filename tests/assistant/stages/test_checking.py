"""Sentence checking: the first problem of an answer sentence, or None."""

from __future__ import annotations

from assistant.prompts import PromptSource
from assistant.stages.checking import SentenceChecker, degenerate, repeats_question

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
