import pytest

from voices.sentences import SentenceSplitter, first_words, split_for_speech, split_sentences


def stream(tokens: list[str]) -> list[str]:
    splitter = SentenceSplitter()
    out: list[str] = []
    for token in tokens:
        out += splitter.feed(token)
    return out + splitter.flush()


def test_english_sentences_split_on_terminators_followed_by_space():
    assert split_sentences("The fee is HK$370. Pay online! Any questions? Yes") == [
        "The fee is HK$370.",
        "Pay online!",
        "Any questions?",
        "Yes",
    ]


def test_numbers_with_points_are_not_sentence_ends():
    text = "Version 1.5 costs $2.50 per page. A 48-page book is HK$1,000.00 in total."
    assert split_sentences(text) == [
        "Version 1.5 costs $2.50 per page.",
        "A 48-page book is HK$1,000.00 in total.",
    ]


def test_abbreviations_and_list_numbers_do_not_split():
    text = "Bring documents, e.g. your ID card. Mr. Chan agreed. Typhoon Signal No. 8 closes it."
    assert split_sentences(text) == [
        "Bring documents, e.g. your ID card.",
        "Mr. Chan agreed.",
        "Typhoon Signal No. 8 closes it.",
    ]
    assert split_sentences("1. Fill in the form. 2. Pay the fee.") == [
        "1. Fill in the form.",
        "2. Pay the fee.",
    ]


def test_chinese_terminators_and_closing_quotes_stay_with_their_sentence():
    assert split_sentences("護照收費為港幣370元。「請帶身份證。」之後再嚟啦！好嗎？另外；") == [
        "護照收費為港幣370元。",
        "「請帶身份證。」",
        "之後再嚟啦！",
        "好嗎？",
        "另外；",
    ]


def test_line_ends_split():
    assert split_sentences("First line\nSecond line") == ["First line", "Second line"]


def test_a_point_split_across_tokens_waits_for_the_next_token():
    # "1" "." "5" must not become "1." + "5"
    assert stream(["The fee is 1", ".", "5 dollars", ".", " Then ", "go", "。", "」", "next"]) == [
        "The fee is 1.5 dollars.",
        "Then go。」",
        "next",
    ]


def test_sentences_come_out_as_soon_as_they_are_complete():
    splitter = SentenceSplitter()
    assert splitter.feed("護照收費") == []
    assert splitter.feed("為370元。下") == ["護照收費為370元。"]
    assert splitter.feed("一句") == []
    assert splitter.flush() == ["下一句"]
    assert splitter.flush() == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("One. Two! Three?", ["One.", "Two!", "Three?"]),
        ("第一句。第二句！第三句？", ["第一句。", "第二句！", "第三句？"]),
        ("Pay $3.50 at www.gov.hk today.", ["Pay $3.50 at www.gov.hk today."]),
        ("line one\nline two", ["line one", "line two"]),
        ("...  。", []),
    ],
)
def test_split_for_speech(text, expected) -> None:
    assert split_for_speech(text) == expected


def test_long_sentences_are_split_within_the_limit() -> None:
    parts = split_for_speech("word " * 200, max_chars=50)
    assert all(len(p) <= 50 for p in parts) and len(parts) > 10
    chinese = split_for_speech("字" * 130, max_chars=50)
    assert [len(p) for p in chinese] == [50, 50, 30]


@pytest.mark.parametrize(
    ("text", "units", "expected"),
    [
        # Chinese: cut at a jieba word boundary inside the first clause, the rest whole
        (
            "这一轮全球金融动荡的表现主要有三个问题：首先是汇率。",
            6,
            ["这一轮全球", "金融动荡的表现主要有三个问题：首先是汇率。"],
        ),
        # English: at most this many words
        (
            "The Highways Department maintains the lamps of every quarter; at night.",
            4,
            ["The Highways Department maintains", "the lamps of every quarter; at night."],
        ),
        # a first clause already short: no cut (the comma ends it)
        ("好的，我帮你查一下这个问题。", 6, ["好的，我帮你查一下这个问题。"]),
        ("Yes, the office opens at nine.", 4, ["Yes, the office opens at nine."]),
        # never between numerals: the cut moves back before the number
        ("费用三百七十元整需要带备身份证", 4, ["费用", "三百七十元整需要带备身份证"]),
        # the rest would keep fewer than 2 units: no cut
        ("The passport costs money now.", 4, ["The passport costs money now."]),
        ("我们明天去办理身份证吧", 10, ["我们明天去办理身份证吧"]),
        # 0: off
        ("这一轮全球金融动荡的表现。", 0, ["这一轮全球金融动荡的表现。"]),
    ],
)
def test_first_words_cuts_the_first_clause_once_at_a_word_boundary(text, units, expected) -> None:
    pieces = first_words(text, units)
    assert pieces == expected
    # nothing is lost or added but the space at the cut
    assert "".join(pieces).replace(" ", "") == text.replace(" ", "")
