"""The fact check: figures must come from a cited, non-quarantined source, in context."""

from __future__ import annotations

from decimal import Decimal

from assistant.gate import FactSource, check_facts, unbound_figures

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
    # the heading goes; the model's mark moves to the end, where the fact check reads it
    assert strip_copied_heading("[1] 補領身份證時限身份證遺失須在30日內補領。", sources) == (
        "身份證遺失須在30日內補領[1]。"
    )
    assert strip_copied_heading("補領身份證時限係30日。", sources) == "補領身份證時限係30日。"
    # the model wrote Simplified from a Traditional title: still the same heading
    assert strip_copied_heading("[1] 补领身份证时限身份证遗失须在30日内补领。", sources) == (
        "身份证遗失须在30日内补领[1]。"
    )


def test_a_leading_citation_mark_moves_to_the_end_of_the_sentence():
    from assistant.gate import strip_copied_heading

    sources = [("凡氏下銀漢魚", "凡氏下銀漢魚為輻鰭魚綱銀漢魚目銀漢魚科的一種。")]
    assert strip_copied_heading("[1] 銀漢魚科", sources) == "銀漢魚科[1]"
    assert strip_copied_heading("[2] It is HK$370.", []) == "It is HK$370 [2]."
    assert strip_copied_heading("[1] 費用[1]", sources, ["費用"]) == "費用[1]"  # scaffold: skipped
    assert strip_copied_heading("銀漢魚科[1]", sources) == "銀漢魚科[1]"


def test_a_section_heading_glued_on_with_its_mark_is_removed():
    from assistant.gate import strip_copied_heading

    sources = [("補領遺失或損毀的身份證", "費用\n補領身份證的費用為港幣370元。")]
    glued = "費用[1]補領身份證嘅費用為港幣370元[2]。"
    assert strip_copied_heading(glued, sources, ["費用"]) == "補領身份證嘅費用為港幣370元[2]。"
    # without a mark after it, 費用 is the sentence's own subject: left alone
    plain = "費用為港幣370元[1]。"
    assert strip_copied_heading(plain, sources, ["費用"]) == plain
    # after a leading mark too: the mark moves, the subject stays
    led = "[1] 費用為港幣370元。"
    assert strip_copied_heading(led, sources, ["費用"]) == "費用為港幣370元[1]。"
    # a heading the sources do not have is the model's own word
    assert strip_copied_heading("收費[1]補領要370元。", sources, ["費用"]) == "收費[1]補領要370元。"


# ---- figures stated together (bind_figures) ------------------------------------------------

PASSPORT_TABLE = FactSource(
    5,
    "HKSAR passport fees",
    "| 32-page passport | HK$370 |\n| 48-page passport | HK$460 |\n"
    "Apply at least 4 weeks before you travel.",
)
BIRTHS = FactSource(
    6,
    "Birth registration",
    "Births must be registered within 42 days; from 1 March 2024 a late registration costs HK$140.",
)


def test_figures_from_two_rows_paired_in_one_clause_are_unbound():
    # both figures are in the source, but 370 is the 32-page fee, not the 48-page one
    assert unbound_figures("48頁護照要370元[1]。", SOURCES) == {Decimal(48), Decimal(370)}
    assert unbound_figures("48頁護照要三百七十元。", SOURCES) == {Decimal(48), Decimal(370)}
    english = "A 48-page passport costs three hundred and seventy dollars."
    assert unbound_figures(english, [PASSPORT_TABLE]) == {Decimal(48), Decimal(370)}
    assert unbound_figures("48頁護照收370蚊", SOURCES) == {Decimal(48), Decimal(370)}


def test_the_question_figure_restated_as_a_topic_binds_to_the_next_clause():
    # "48頁護照，收費370元": the comma does not part the 48 asked about from its fee
    assert unbound_figures("48頁護照，收費370元。", SOURCES, topic=["48頁護照幾錢？"])
    assert not unbound_figures("48頁護照，收費460元。", SOURCES, topic=["48頁護照幾錢？"])


def test_figures_that_share_a_table_row_or_a_line_are_bound():
    assert unbound_figures("48頁護照要460元[1]。", SOURCES) == frozenset()
    assert unbound_figures("A 48-page passport costs HK$460.", [PASSPORT_TABLE]) == frozenset()
    both = "32頁護照港幣370元，48頁護照港幣四百六十元。"
    assert unbound_figures(both, SOURCES) == frozenset()
    english = "A 48-page passport costs HK$460 and a 32-page one HK$370."
    assert unbound_figures(english, [PASSPORT_TABLE]) == frozenset()


def test_a_clause_with_one_figure_binds_nothing():
    assert unbound_figures("護照要370元。", SOURCES) == frozenset()
    assert unbound_figures("The fee is HK$370, apply 4 weeks ahead.", [PASSPORT_TABLE]) == set()


def test_a_date_and_a_fee_from_one_sentence_are_bound_and_from_two_are_not():
    assert not unbound_figures("From 1 March 2024 a late registration costs HK$140.", [BIRTHS])
    assert not unbound_figures("二零二四年三月一日起逾期登記收費一百四十元。", [BIRTHS])
    mixed = unbound_figures("From 1 March 2024 a passport costs HK$370.", [BIRTHS, PASSPORT_TABLE])
    assert mixed == {Decimal(2024), Decimal(3), Decimal(370)}


def test_the_hotline_and_figures_no_source_states_bind_to_nothing():
    assert not unbound_figures("請致電1823查詢，48頁護照460元。", SOURCES, free=["1823"])
    assert not unbound_figures("請致電1823查詢48頁護照收費460元。", SOURCES, free=["1823"])
    # the caller's own figure ("I am 70") is in no source: it is theirs, not a sourced fact
    assert not unbound_figures("70歲人士護照要370元。", SOURCES, topic=["我70歲，護照幾錢？"])


def test_a_quarantined_source_binds_nothing():
    planted = FactSource(7, "Notice", "48頁護照現收370元。", quarantined=True)
    assert unbound_figures("48頁護照要370元。", [*SOURCES, planted])


def test_a_source_sentence_listing_pairs_binds_each_pair_not_all_its_figures():
    replace = FactSource(8, "補領護照", "補領護照的收費與新申請相同：32頁為370元，48頁為460元。")
    assert unbound_figures("補領48頁護照要370元。", [replace]) == {Decimal(48), Decimal(370)}
    assert not unbound_figures("補領48頁護照要460元。", [replace])
    # a sentence whose one pairing spans a comma still binds it
    comma = FactSource(9, "Passport", "For a 48-page passport, the fee is HK$460.")
    assert not unbound_figures("A 48-page passport costs HK$460.", [comma])


def test_a_citation_mark_closes_a_clause():
    run_on = "護照費用[1]32頁護照: 港幣370元[1]48頁護照: 港幣460元[1]"
    assert not unbound_figures(run_on, SOURCES)
    assert unbound_figures("48頁護照要370元[1]。", SOURCES)


def test_figures_of_a_sources_title_qualify_all_it_says():
    fare = FactSource(10, "兩元乘車優惠計劃", "60歲或以上人士須使用樂悠咭。")
    question = ["樂悠咭每個月最多可以搭幾多程兩蚊？"]
    assert not unbound_figures("兩元優惠，60歲或以上人士要用樂悠咭。", [fare], topic=question)
    headed = FactSource(11, "", "# 兩元乘車優惠計劃\n\n60歲或以上人士須使用樂悠咭。")
    assert not unbound_figures("兩元優惠，60歲或以上人士要用樂悠咭。", [headed], topic=question)
    untitled = FactSource(12, "乘車優惠計劃", "60歲或以上人士須使用樂悠咭。\n每程只需付2元。")
    assert unbound_figures("兩元優惠，60歲或以上人士要用樂悠咭。", [untitled], topic=question)


def test_a_line_ending_in_a_colon_qualifies_the_next_one():
    dated = FactSource(13, "出生登記收費", "由2024年3月1日起，以下收費生效：\n逾期登記: 140元\n")
    assert not unbound_figures("由2024年3月1日起逾期登記收費140元。", [dated])
    # a table of rows introduces nothing: the passport rows stay apart (the prompt's form)
    rows = FactSource(1, "香港特區護照收費", "護照: 費用\n32頁護照: 港幣370元\n48頁護照: 港幣460元")
    assert unbound_figures("48頁護照要370元。", [rows])


def test_the_memos_of_sources_and_prompts_stay_bounded_over_many_turns() -> None:
    """A server runs for weeks with a new prompt every turn: the text-keyed memos must not grow
    with them (they were unbounded functools.cache)."""
    from assistant import gate

    for i in range(gate.PROMPT_MEMO_SIZE + 50):
        gate._prompt_grams(f"prompt of turn {i}: 護照收費 {i} 元", 3)
        gate._bound_groups(f"title {i}", f"48頁護照: 港幣{i}元")
    assert gate._prompt_grams.cache_info().currsize <= gate.PROMPT_MEMO_SIZE
    assert gate._bound_groups.cache_info().maxsize == gate.SOURCE_MEMO_SIZE
    assert gate._figure_contexts.cache_info().maxsize == gate.SOURCE_MEMO_SIZE
