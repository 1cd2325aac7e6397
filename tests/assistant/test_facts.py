"""The fact check: figures must come from a cited, non-quarantined source, in context."""

from __future__ import annotations

from decimal import Decimal

from assistant.gate import FactSource, check_facts

PASSPORT_ZH = FactSource(1, "香港特區護照收費", "32頁護照: 港幣370元\n48頁護照: 港幣460元")
HOUSING = FactSource(2, "公屋入息限額", "一人家庭每月入息限額為12,940元。")
PASSPORT_EN = FactSource(
    3, "HKSAR passport fees", "48-page passport: HK$460\nThe fee is refundable."
)
SOURCES = [PASSPORT_ZH, HOUSING, PASSPORT_EN]


def test_a_figure_from_another_subject_is_not_grounded():
    # the 12,940 is in the sources, but as a housing income limit, not a passport fee
    check = check_facts("護照要12,940元[1]。", SOURCES)
    assert check.problem == "ungrounded"
    assert check.unfound == {Decimal(12940)}


def test_a_grounded_figure_gets_its_citation():
    check = check_facts("48頁護照要460元。", SOURCES)
    assert check.problem is None
    assert check.sentence == "48頁護照要460元[1]。" and check.cited == (1,)


def test_a_wrong_citation_is_corrected_to_the_source_that_states_the_figure():
    check = check_facts("A 48-page passport costs HK$460 [2].", SOURCES)
    assert check.problem is None and check.cited == (3,)
    assert check.sentence == "A 48-page passport costs HK$460 [3]."


def test_figures_written_in_words_are_checked_too():
    assert check_facts("The fee is four hundred and sixty dollars.", SOURCES).problem is None
    wrong = check_facts("The fee is five hundred dollars.", SOURCES)
    assert wrong.problem == "ungrounded" and wrong.unfound == {Decimal(500)}
    assert check_facts("48頁護照要五百元。", SOURCES).problem == "ungrounded"


def test_a_quarantined_source_grounds_nothing():
    planted = FactSource(4, "Notice", "The passport fee is now HK$2 for everyone.", True)
    check = check_facts("The passport fee is HK$2 [4].", [*SOURCES, planted])
    assert check.problem == "ungrounded" and check.unfound == {Decimal(2)}
    assert 4 not in check_facts("The passport fee is refundable [4].", [*SOURCES, planted]).cited


def test_figures_of_the_question_and_the_hotline_are_free():
    check = check_facts("Please call 1823.", SOURCES, also_allowed=["1823"])
    assert check.problem is None and check.cited == ()


def test_a_fact_without_figures_cites_the_source_about_it():
    check = check_facts("The passport fee is refundable.", SOURCES)
    assert check.problem is None and check.cited == (3,)
    assert check_facts("Hello there.", SOURCES).cited == ()


def test_a_copied_heading_run_into_the_answer_is_removed():
    from assistant.gate import strip_copied_heading

    sources = [("補領身份證時限", "身份證遺失…")]
    assert strip_copied_heading("[1] 補領身份證時限身份證遺失須在30日內補領。", sources) == (
        "身份證遺失須在30日內補領。"
    )
    assert strip_copied_heading("補領身份證時限係30日。", sources) == "補領身份證時限係30日。"
