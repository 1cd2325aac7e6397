"""Text made speakable per language."""

from __future__ import annotations

import pytest

from voices.text_normalise import normalise_for_speech, strip_markup


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("Call 1823 for help.", "en", "Call one eight two three for help."),
        ("請致電1823查詢。", "yue", "請致電一八二三查詢。"),
        ("请致电1823查询。", "cmn", "请致电幺八二三查询。"),
        ("Tel: 2345 6789.", "en", "Tel: two three four five six seven eight nine."),
        ("電話：2345-6789", "yue", "電話：二三四五六七八九"),
        ("It costs $2.", "en", "It costs two dollars."),
        ("It costs $1.", "en", "It costs one dollar."),
        ("The fee is HK$1,000.", "en", "The fee is one thousand Hong Kong dollars."),
        ("$2.50 each", "en", "two dollars fifty cents each"),
        ("費用為$2。", "yue", "費用為兩蚊。"),
        ("$2.50", "yue", "兩蚊五毫"),
        ("要2蚊。", "yue", "要兩蚊。"),  # a bare amount in 蚊 (assistant.colloquial): a quantity
        ("2元", "cmn", "两元"),
        ("费用为$2。", "cmn", "费用为两元。"),
        ("HK$1,000", "yue", "港幣一千蚊"),  # how a Hong Kong Cantonese speaker says it
        ("護照費用為HK$370。", "yue", "護照費用為港幣三百七十蚊。"),
        ("港幣370元", "yue", "港幣三百七十蚊"),  # the unit is said once
        ("港币370元", "cmn", "三百七十港元"),
        ("HK$370.50", "yue", "港幣三百七十蚊五毫"),
        ("HK$3萬", "yue", "港幣三萬"),
        ("HK$1,000", "cmn", "一千港元"),
        ("$2.50", "cmn", "两元五角"),
        ("HK$3 million", "en", "three million Hong Kong dollars"),
        ("15% off", "en", "fifteen percent off"),
        ("增長了15%", "yue", "增長了百分之十五"),
        ("增长了15%", "cmn", "增长了百分之十五"),
        ("Due 2024-03-01.", "en", "Due the first of March twenty twenty-four."),
        ("Due 1/3/2024.", "en", "Due the first of March twenty twenty-four."),
        ("截止日期2024年3月1日", "yue", "截止日期二零二四年三月一號"),
        ("2026年12月1日前交", "yue", "二零二六年十二月一號前交"),
        ("2026-12-01", "yue", "二零二六年十二月一號"),
        ("星期日休息", "yue", "星期日休息"),
        ("截止日期2024-03-01", "cmn", "截止日期二零二四年三月一日"),
        ("Open at 9:30am", "en", "Open at nine thirty A M"),
        ("Open at 10:00.", "en", "Open at ten o'clock."),
        ("下午3:30前", "yue", "下午三點半前"),
        ("下午3:30前", "cmn", "下午三点三十分前"),
        ("共12,000人", "yue", "共一萬二千人"),
        ("2個人", "yue", "兩個人"),
        ("2个人", "cmn", "两个人"),
        ("第2期", "yue", "第二期"),
        ("12 forms", "en", "twelve forms"),
        ("the 3rd floor", "en", "the third floor"),
        ("Bring your HKID.", "en", "Bring your H K I D."),
        ("Check your MPF via eTAX.", "en", "Check your M P F via e-Tax."),
        ("Ask FEHD.", "en", "Ask F E H D."),
        ("帶備HKID", "yue", "帶備香港身份證"),
        ("MPF供款", "cmn", "强积金供款"),
        ("e.g. a passport", "en", "for example a passport"),
        # how a Hong Kong Cantonese speaker reads them (issue 13)
        ("如有查詢，請致電1823。", "yue", "如有查詢，請致電一八二三。"),
        ("HK$0.50", "yue", "港幣五毫"),
        ("$0.50", "yue", "五毫"),
        ("3-5個工作天", "yue", "三至五個工作天"),
        ("7～14日", "yue", "七至十四日"),
        ("09:00-17:30", "yue", "九點至下午五點半"),
        ("19:30開始", "yue", "晚上七點半開始"),
        ("12:00", "yue", "十二點"),
        ("17:00", "cmn", "十七点"),  # Mandarin keeps the 24-hour reading
        ("2023/24年度", "yue", "二零二三至二四年度"),
        ("2023-24年度", "yue", "二零二三至二四年度"),
        ("身份證號碼A123456(7)", "yue", "身份證號碼A一二三四五六七"),
        ("HKID A123456(A)", "en", "H K I D A one two three four five six A"),
        ("G/F, 3/F", "yue", "地下, 三樓"),
        ("2/F", "yue", "二樓"),  # a floor is counted: 二樓, never 兩樓
        ("2/F", "en", "floor two"),
        ("請致電+852 2345 6789", "yue", "請致電八五二二三四五六七八九"),
        ("電話號碼係2345-6789", "yue", "電話號碼係二三四五六七八九"),
    ],
)
def test_normalise(text: str, language, expected: str) -> None:
    assert normalise_for_speech(text, language) == expected


def test_markup_urls_and_citations_are_not_spoken() -> None:
    answer = (
        "## Renewing\n"
        "- **Book** online at [the portal](https://www.gov.hk/renew) [1].\n"
        "- Or visit https://www.immd.gov.hk or email enquiry@immd.gov.hk [2, 3]\n"
        "| Fee | HK$460 |\n|---|---|\n"
        "<b>Done</b> `now`"
    )
    spoken = strip_markup(answer)
    for gone in ("http", "www", "[", "]", "**", "##", "<b>", "`", "@", "---"):
        assert gone not in spoken
    assert "Book online at the portal." in spoken
    assert "Renewing" in spoken and "Done" in spoken


def test_cantonese_answers_come_out_in_traditional_and_mandarin_in_simplified() -> None:
    assert normalise_for_speech("后来", "yue") == "後來"
    assert normalise_for_speech("後來", "cmn") == "后来"


def test_hostile_text_does_not_break_the_normaliser() -> None:
    for text in ["$" * 50, "9" * 400, "%%%", "1/2/3/4", "99:99", "HK$", "2024-13-45", ""]:
        assert isinstance(normalise_for_speech(text, "en"), str)
        assert isinstance(normalise_for_speech(text, "yue"), str)
