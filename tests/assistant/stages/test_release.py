"""Release: the first sentence said a clause at a time, each clause checked as the sentence so
far; figures, leaks and the language checked before anything is said."""

from __future__ import annotations

import itertools

from assistant.prompts import PromptSource, system_prompt
from assistant.stages.checking import SentenceChecker
from assistant.stages.release import Piece, Release, _glimpse_end

ZH_SOURCES = [
    PromptSource(
        1,
        "補領身份證",
        "身份證遺失、被竊或損毀，須在30日內向人事登記辦事處申請補領，費用為港幣370元。",
    )
]
EN_SOURCES = [
    PromptSource(1, "Passport fees", "48-page passport: HK$460\n32-page passport: HK$370"),
]
PROMPTS = [system_prompt(lang, "1823") for lang in ("yue", "cmn", "en")]


def release(language="yue", question="補領身份證要幾多錢？", sources=ZH_SOURCES, **kw) -> Release:
    checker = SentenceChecker(language, question, sources, PROMPTS, hotline="1823")
    kw.setdefault("glimpse_interval_s", 0)  # every glimpse judged (the interval: its own test)
    return Release(checker, **kw)


def feed_chars(r: Release, text: str) -> list[tuple[int, Piece]]:
    """Feed `text` a character at a time (as a model writes); (chars fed, piece) per piece."""
    out = []
    for i, ch in enumerate(text, 1):
        pieces, problem = r.feed(ch)
        assert problem is None
        out += [(i, p) for p in pieces]
    return out


def feed_until_problem(r: Release, text: str) -> tuple[list[Piece], str | None]:
    """Feed `text` a character at a time until a sentence fails: the pieces, and the problem."""
    out: list[Piece] = []
    for ch in text:
        pieces, problem = r.feed(ch)
        out += pieces
        if problem:
            return out, problem
    return out, None


def test_first_sentence_goes_out_a_clause_at_a_time_and_says_it_all_once() -> None:
    text = "身份證遺失、被竊或損毀，須喺30日內向人事登記辦事處申請補領，費用為港幣370元[1]。"
    r = release()
    got = feed_chars(r, text + "如")
    assert [p for _, p in got] == [
        Piece("身份證遺失、被竊或損毀，", False),
        Piece("須喺30日內向人事登記辦事處申請補領，", False),
        Piece("費用為港幣370元[1]。", True),
    ]
    # the first clause is out as soon as its comma is written, long before the sentence ends
    assert got[0][0] == text.index("，") + 1
    assert r.sentences == 1


def test_later_sentences_are_said_whole() -> None:
    r = release()
    got = feed_chars(r, "費用為港幣370元[1]。如果身份證遺失，要喺30日內申請補領。")
    pieces, problem = r.flush()
    assert problem is None
    assert [p.text for _, p in got] == ["費用為港幣370元[1]。"]
    assert [p.text for p in pieces] == ["如果身份證遺失，要喺30日內申請補領[1]。"]


def test_a_clause_with_an_invented_figure_is_never_said() -> None:
    r = release()
    got = feed_chars(r, "身份證遺失，費用為港幣999元，")
    assert [p.text for _, p in got] == ["身份證遺失，"]  # held at the invented fee
    pieces, problem = r.feed("要即日申請。")
    assert pieces == [] and problem is None  # the sentence is not over yet
    pieces, problem = r.feed("好")
    # the sentence fails: what was said of it is closed by a "…", shown and not spoken
    assert pieces == [Piece("…", False, display="…", spoken=False)] and problem == "ungrounded"


def test_a_grounded_figure_clause_goes_out_before_the_sentence_ends() -> None:
    r = release("en", "How much is a 48-page passport?", EN_SOURCES)
    got = feed_chars(r, "For a 48-page passport, the fee is HK$460 [1]. ")
    assert [p.text for _, p in got] == ["For a 48-page passport,", "the fee is HK$460 [1]."]


def test_a_bare_figure_waits_for_its_words() -> None:
    # "370" alone would be accepted in any context: the clause waits for the sentence's words
    r = release()
    got = feed_chars(r, "370元，係補領身份證嘅費用[1]。好")
    assert [p.text for _, p in got] == ["370元，係補領身份證嘅費用[1]。"]


def test_a_leak_across_clauses_is_held_until_the_sentence_fails() -> None:
    leak = "你係香港特區政府公共查詢服務嘅語音助理，只可以根據有編號嘅資料回答。"
    r = release()
    got = feed_chars(r, leak)
    pieces, problem = r.feed("好")
    assert got == [] and pieces == [] and problem == "prompt_leak"


def test_wrong_language_clauses_wait_even_when_short() -> None:
    r = release()
    got = feed_chars(r, "Sure, you can apply at any office.")
    pieces, problem = r.feed(" ")
    assert got == [] and pieces == [] and problem == "wrong_language"


def test_a_copied_source_heading_is_not_said() -> None:
    r = release()
    got = feed_chars(r, "[1] 補領身份證：費用為港幣370元。好")
    assert [p.text for _, p in got] == ["費用為港幣370元[1]。"]


def test_ascii_commas_in_figures_and_tiny_clauses_do_not_split() -> None:
    r = release("en", "How much is a 48-page passport?", EN_SOURCES)
    got = feed_chars(r, "HK$1,000")
    assert got == []
    r = release(min_clause_chars=4)
    assert [p.text for _, p in feed_chars(r, "係，身份證遺失，")] == ["係，身份證遺失，"]


def test_no_clause_ends_inside_brackets() -> None:
    r = release("en", "Where were the Normans?", EN_SOURCES)
    got = feed_chars(r, "The Normans (Norman: Nourmands; French: Normands) lived in Normandy, ")
    assert [p.text for _, p in got] == [
        "The Normans (Norman: Nourmands; French: Normands) lived in Normandy,"
    ]


def test_early_clauses_off_says_whole_sentences() -> None:
    r = release(early_clauses=False)
    got = feed_chars(r, "身份證遺失、被竊或損毀，費用為港幣370元[1]。好")
    assert [p.text for _, p in got] == ["身份證遺失、被竊或損毀，費用為港幣370元[1]。"]


def test_a_copied_faq_question_is_skipped_even_after_its_first_clause() -> None:
    faq = "身份證遺失後，要在幾多日內申請補領？須在30日內申請。"
    sources = [PromptSource(1, "補領身份證", faq)]
    r = release(sources=sources)
    got = feed_chars(r, "身份證遺失後，要在幾多日內申請補領？須在30日內申請[1]。好")
    # the copied question is skipped; a "…" (shown only) closes its clause already said
    assert [p.text for _, p in got] == ["身份證遺失後，", "…", "須在30日內申請[1]。"]
    assert [p.spoken for _, p in got] == [True, False, True]


def test_a_fee_from_another_row_is_never_said_for_the_figure_asked_about() -> None:
    # 370 is a 32-page fee: "48-page ... HK$370" pairs figures no row pairs (bind_figures)
    r = release("en", "How much is a 48-page passport?", EN_SOURCES)
    got = feed_chars(r, "For a 48-page passport, the fee is HK$370 [1]")
    assert [p.text for _, p in got] == ["For a 48-page passport,"]  # the topic, not the fee
    pieces, problem = r.feed(". ")
    assert pieces == [Piece("…", False, display="…", spoken=False)] and problem == "unbound"


def test_a_later_sentence_that_restates_an_earlier_one_is_not_said() -> None:
    second = "補領身份證的費用為港幣370元，不論遺失或損壞，收費相同。新證約10個工作天後可領取。"
    r = release(sources=[*ZH_SOURCES, PromptSource(2, "補領身份證費用", second)])
    first = "身份證遺失、被竊或損毀，須喺30日內向人事登記辦事處申請補領，費用為港幣370元[1]。"
    again = "補領身份證嘅費用為港幣370元，不論遺失或損壞，收費相同[2]。"
    new = "新證約10個工作天後可以領取[2]。"
    said = [p.text for _, p in feed_chars(r, first + again + new)]
    pieces, problem = r.flush()
    said += [p.text for p in pieces]
    assert problem is None
    assert "".join(said) == first + new  # the fee said once; the new figure said
    assert r.sentences == 2  # the skipped repeat is not counted against the limit


def test_a_leading_mark_and_a_glued_heading_are_not_said_and_the_citation_stays() -> None:
    sources = [PromptSource(1, "補領身份證", "費用\n補領身份證的費用為港幣370元。")]
    r = release(sources=sources, early_clauses=False)
    got = feed_chars(r, "費用[1]補領身份證嘅費用為港幣370元。費用[1]。好")
    assert [p.text for _, p in got] == ["補領身份證嘅費用為港幣370元[1]。"]
    assert got[0][1].whole
    r = release(sources=[PromptSource(1, "凡氏下銀漢魚", "凡氏下銀漢魚為銀漢魚科的一種。")])
    pieces, problem = r.feed("[1] 銀漢魚科")
    assert pieces == [] and problem is None
    pieces, problem = r.flush()
    assert [p.text for p in pieces] == ["銀漢魚科[1]"] and problem is None


def said_all(r: Release, text: str) -> list[str]:
    """The texts said for `text` written whole and the stream's end."""
    said = [p.text for _, p in feed_chars(r, text)]
    pieces, problem = r.flush()
    assert problem is None
    return said + [p.text for p in pieces]


def test_a_tail_cut_off_mid_text_by_the_token_limit_is_not_said() -> None:
    first = "費用為港幣370元[1]。"
    cut = "如因容貌有顯著改變，以致相片與本人"  # where the token limit stopped the model
    text = first + cut
    # a character a delta: the stream ran to the limit
    assert said_all(release(early_clauses=False, token_limit=len(text)), text) == [first]
    # the same tail, well within the limit: the model stopped there itself, it is said
    said = said_all(release(early_clauses=False, token_limit=4 * len(text)), text)
    assert said == [first, cut]
    # at the limit, the model's own last sentence, ended by a mark or a sentence end, is said
    for ending in ("身份證遺失要喺30日內申請[1]", "身份證遺失要喺30日內申請。"):
        text = first + ending
        assert len(said_all(release(early_clauses=False, token_limit=len(text)), text)) == 2
    # and so is a first sentence, even unterminated ("140元[1]", "HK$460")
    assert said_all(release(early_clauses=False, token_limit=5), "港幣370元") == ["港幣370元[1]"]


# ---- early_text: the first sentence shown a few words at a time ---------------------------


def shown_text(pieces: list[Piece]) -> str:
    """What the pieces show, joined as the answer joins them (a space between English words)."""
    out = ""
    for p in pieces:
        part = (p.text if p.display is None else p.display).strip()
        if part:
            joined = not out or part[0] in ".,;:!?)…" or not part.isascii()
            out += part if joined else " " + part
    return out


def test_the_first_sentence_is_shown_before_its_first_clause_ends_and_said_as_before() -> None:
    text = "身份證遺失、被竊或損毀，須喺30日內向人事登記辦事處申請補領，費用為港幣370元[1]。"
    glimpsing = feed_chars(release(early_text=True), text + "如")
    plain = feed_chars(release(), text + "如")
    # words are shown long before the first clause's comma is written
    first_shown, first = glimpsing[0]
    assert not first.spoken and first_shown < text.index("，")
    # what is spoken is exactly what was spoken without early text, piece for piece
    said = [p.text for _, p in glimpsing if p.spoken]
    assert said == [p.text for _, p in plain]
    # and what is shown adds up to the sentence, each word once
    assert shown_text([p for _, p in glimpsing]) == text


def test_a_figure_is_shown_only_once_a_word_or_a_mark_follows_it() -> None:
    r = release("en", "How much is a 48-page passport?", EN_SOURCES, early_text=True)
    text = "The fee for a 48-page passport is HK$460 [1]. "
    shown_at = {}
    for i, ch in enumerate(text, 1):
        pieces, problem = r.feed(ch)
        assert problem is None
        for p in pieces:
            shown_at[i] = p
    glimpses = [p.text for p in shown_at.values() if not p.spoken]
    # nothing ever ends inside a word, or at a figure still being written ("HK$4", "HK")
    assert all(not g.endswith(("HK", "$", "4", "46")) for g in glimpses), glimpses
    assert "$460" not in "".join(glimpses[:-1])  # the figure comes with its [1], not before
    assert shown_text(list(shown_at.values())) == text.strip()


def test_number_words_a_phone_number_and_an_open_bracket_wait_for_what_follows() -> None:
    sources = [
        PromptSource(1, "Fees", "The fee is three hundred and seventy dollars. Call 2835 3376.")
    ]
    r = release("en", "What is the fee?", sources, early_text=True)
    glimpsed = ""
    for ch in "The fee is three hundred and seventy dollars (call 2835 3376) [1].":
        pieces, problem = r.feed(ch)
        assert problem is None
        for p in pieces:
            if not p.spoken:
                glimpsed += p.text
                # a shown prefix never ends on a number's words, half a phone number or "(…"
                assert not glimpsed.rstrip().endswith(
                    ("three", "hundred", "and", "2835", "(call")
                ), glimpsed
    assert "dollars" in glimpsed


def test_the_last_chinese_characters_wait_so_their_conversion_is_settled() -> None:
    r = release(early_text=True, glimpse_hold_chars=3)
    shown = "".join(p.text for _, p in feed_chars(r, "身份證遺失了要補"))
    assert shown.startswith("身份證") and "了" not in shown  # 了 may be 咗 or 喇 yet
    pieces, _ = r.feed("領")
    assert (shown + "".join(p.text for p in pieces)).endswith("了")  # 3 after it: settled


def test_shown_words_of_a_sentence_that_then_fails_are_closed_with_an_ellipsis() -> None:
    r = release("en", "How much is a 48-page passport?", EN_SOURCES, early_text=True)
    shown, problem = feed_until_problem(r, "The fee for a 48-page passport is HK$999 [1].")
    pieces, problem = r.feed(" It")  # the sentence's end: checked whole, and failed
    shown += pieces
    assert problem == "ungrounded" and shown[-1].text == "…"
    assert all(not p.spoken for p in shown)  # nothing of it was spoken
    assert shown_text(shown) == "The fee for a 48-page passport is…"
    assert "999" not in shown_text(shown)


def test_only_the_first_sentence_is_shown_early() -> None:
    r = release(early_text=True)
    feed_chars(r, "費用為港幣370元[1]。如")
    later = feed_chars(r, "果身份證遺失，要喺30日內申請補領")
    assert later == []  # the second sentence waits for its end, shown and said whole


def test_a_full_width_citation_mark_is_never_shown_half_written() -> None:
    r = release(early_text=True, glimpse_hold_chars=0)
    text = "補領身份證嘅費用為港幣370元【1】，要喺30日內申請"
    shown = ""
    for ch in text:
        pieces, problem = r.feed(ch)
        assert problem is None
        shown += "".join(p.text if p.display is None else p.display for p in pieces)
        assert "【" not in shown.replace("【1】", "")  # never an open mark
    assert shown.startswith("補領身份證嘅費用為港幣370元")


def test_a_start_that_may_become_a_copied_heading_or_question_is_not_shown() -> None:
    faq = "身份證遺失後，要在幾多日內申請補領？須在30日內申請。"
    sources = [PromptSource(1, "補領身份證", faq)]
    r = release(sources=sources, early_text=True, glimpse_hold_chars=0)
    got = feed_chars(r, "補領身份證[1]。身份證遺失後，要在幾多日內申請補領？須在30日內申請[1]。好")
    # the title and the FAQ question were copied: nothing of the title was shown; of the
    # question only its first clause (said, as without early text) and the "…" that closes it
    texts = [(p.text, p.spoken) for _, p in got]
    assert texts[:2] == [("身份證遺失後，", True), ("…", False)]
    # then the answer, the first sentence said: shown as it is written, then said whole
    assert [t for t, spoken in texts if spoken] == ["身份證遺失後，", "須在30日內申請[1]。"]
    assert shown_text([p for _, p in got][2:]) == "須在30日內申請[1]。"


def test_an_echo_of_the_callers_question_is_not_shown_before_it_fails() -> None:
    r = release("en", "How much is a 48-page passport?", EN_SOURCES, early_text=True)
    shown, problem = feed_until_problem(r, "How much is a 48-page passport? ")
    assert problem == "prompt_echo"
    assert shown == []  # not even "How much is a": it was the caller's question all along


def test_words_are_shown_at_most_once_an_interval_the_first_at_once() -> None:
    now = [0.0]
    r = release(
        "en", "How much is a 48-page passport?", EN_SOURCES, early_text=True,
        glimpse_interval_s=0.25, clock=lambda: now[0],
    )  # fmt: skip
    shown_at = []
    for word in ["The", "fee", "for", "a", "48-page", "passport", "is", "HK$460", "[1]."]:
        pieces, problem = r.feed(word + " ")
        assert problem is None
        shown_at += [now[0] for p in pieces if not p.spoken]
        now[0] += 0.1  # a token every 100 ms
    assert shown_at[0] == 0.0  # the first word as soon as it is settled ("The " ends it)
    gaps = [b - a for a, b in itertools.pairwise(shown_at)]
    assert gaps and min(gaps) >= 0.25 - 1e-9  # then no faster than the interval


def test_a_word_the_conversion_reads_whole_is_not_cut_when_shown() -> None:
    from assistant.colloquial import to_colloquial

    def shown(text: str) -> str:
        return to_colloquial(text)

    r = release(early_text=True, display=shown)
    pieces = [p for _, p in feed_chars(r, "補領身份證不適用於此情況，")]
    glimpses = [p.text for p in pieces if not p.spoken]
    # 不適用 is left as written (a _KEEP word); cut as 不|適用 it would show 唔適用
    assert all(not g.endswith("不") for g in glimpses), glimpses
    assert "唔" not in "".join(shown(g) for g in glimpses)


def test_the_sentence_end_is_shown_with_the_citation_the_check_adds_before_it() -> None:
    r = release(early_text=True)
    got = feed_chars(r, "補領身份證的費用是港幣370元。如")
    assert shown_text([p for _, p in got]) == "補領身份證的費用是港幣370元[1]。"
    assert not any(p.text.endswith("。") for _, p in got if not p.spoken)


def test_a_time_a_date_or_a_hyphenated_number_is_never_shown_in_part() -> None:
    sources = [PromptSource(1, "Hours", "The office opens at 10:30 am. Apply by 1/7/2024 online.")]
    for text in ("The office opens at 10:30 am [1].", "You must apply by 1/7/2024 online [1]."):
        r = release("en", "When does the office open?", sources, early_text=True)
        shown = ""
        for ch in text:
            pieces, problem = r.feed(ch)
            assert problem is None
            shown += "".join(p.text for p in pieces if not p.spoken)
            assert not shown.endswith((":", "10", "1/7/", "1/7")), shown  # "10:" of "10:30"
    zh = [PromptSource(1, "辦公時間", "辦事處辦公時間為上午9:30至下午5:30。")]
    r = release("yue", "辦事處幾點開？", zh, early_text=True)
    for ch in "辦事處辦公時間為上午9:30至下午5:30[1]。":
        pieces, problem = r.feed(ch)
        assert problem is None
        assert all(not p.text.endswith(":") for p in pieces if not p.spoken), pieces
    # "twenty-five" may yet be "twenty-five thousand"; 廿 may be 廿五
    assert _glimpse_end("It costs twenty-five", 3) == len("It costs")
    assert _glimpse_end("收費為港幣廿五元", 3) == len("收費為港幣")


def test_a_bare_fragment_shown_early_is_still_said_as_a_sentence() -> None:
    # "港幣370元[1]。" alone is said "要港幣370元。" (colloquial.spoken_fragment, `whole`): its
    # words shown early must not change how it is said
    glimpsing = feed_chars(release(early_text=True), "港幣370元[1]。如")
    plain = feed_chars(release(), "港幣370元[1]。如")
    assert any(not p.spoken for _, p in glimpsing)  # shown early
    said = [(p.text, p.whole) for _, p in glimpsing if p.spoken]
    assert said == [(p.text, p.whole) for _, p in plain]
    assert said[0] == ("港幣370元[1]。", True)


def test_words_shown_of_a_sentence_the_model_never_finished_are_closed_by_abandon() -> None:
    r = release("en", "How much is a 48-page passport?", EN_SOURCES, early_text=True)
    shown = [p for _, p in feed_chars(r, "The fee for a 48-page passport is")]
    assert shown and all(not p.spoken for p in shown)
    assert r.abandon() == [Piece("…", False, display="…", spoken=False)]  # a timeout, say
    assert r.abandon() == []  # once
    assert release().abandon() == []  # nothing shown: nothing to close
