"""Make an answer speakable: strip markup, then read numbers, money, dates, times, phone
numbers, percentages and abbreviations the way a person would, per language.

Order matters: markup first (so link targets are not read), then phone numbers (digit by
digit, before any number is read as a quantity: 1823 is 一八二三, not 一千八百二十三), money,
abbreviations, dates, times, percentages, and last the remaining numbers. English
numbers are written out with num2words, Chinese ones with cn2an; Cantonese uses 兩 for a
quantity of two (兩蚊, 兩個) and 蚊 for dollars; Mandarin reads 1 in phone numbers as 幺.
Chinese output is finally put in the language's script with OpenCC (voices.language).
"""

from __future__ import annotations

import re
from collections.abc import Callable

import cn2an
from num2words import num2words

from voices.language import to_script
from voices.types import SpokenLanguage

# ---- markup -----------------------------------------------------------------------------

_MD_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_MD_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_CITATION = re.compile(r"\s?\[\d+(?:\s*[,，-]\s*\d+)*\]")  # [1], [1, 2]: shown, never spoken
_URL = re.compile(r"\b(?:https?://|www\.)\S+", re.IGNORECASE)
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
_HTML_TAG = re.compile(r"</?[a-zA-Z][^>]*>")
_CODE_FENCE = re.compile(r"```.*?```", re.DOTALL)
_EMPHASIS = re.compile(r"(\*{1,3}|_{2,3}|~~|`)(?=\S)(.+?)(?<=\S)\1")
_LINE_MARKERS = re.compile(r"^\s*(?:#{1,6}\s+|>\s?|[-*+•]\s+|\d+[.)]\s+)", re.MULTILINE)
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{3,}.*$", re.MULTILINE)
_SPACES = re.compile(r"[ \t\u3000]+")


def strip_markup(text: str) -> str:
    """Markdown/HTML/URLs/citation markers out, the words they decorate kept."""
    text = _CODE_FENCE.sub(" ", text)
    text = _MD_IMAGE.sub(r"\1", text)
    text = _MD_LINK.sub(r"\1", text)
    text = _CITATION.sub("", text)
    text = _URL.sub("", text)
    text = _EMAIL.sub("", text)
    text = _HTML_TAG.sub(" ", text)
    text = _TABLE_RULE.sub("", text)
    text = _LINE_MARKERS.sub("", text)
    for _ in range(2):  # nested emphasis (***bold italic***)
        text = _EMPHASIS.sub(r"\2", text)
    text = text.replace("|", ", ").replace("*", "").replace("#", " ")
    lines = [_SPACES.sub(" ", line).strip() for line in text.splitlines()]
    return "\n".join(line for line in lines if line)


# ---- abbreviations ------------------------------------------------------------------------

ABBREVIATIONS: dict[str, dict[str, str]] = {
    "en": {
        "HKID": "H K I D",
        "HKSAR": "H K S A R",
        "MPF": "M P F",
        "eTAX": "e-Tax",
        "CSSA": "C S S A",
        "e.g.": "for example",
        "i.e.": "that is",
        "etc.": "et cetera",
        "Govt": "Government",
        "Dept": "Department",
        "approx.": "approximately",
        "No.": "number",
        "Mr.": "Mister",
        "Mrs.": "Missus",
        "Dr.": "Doctor",
        "a.m.": "A M",
        "p.m.": "P M",
    },
    "yue": {
        "HKID": "香港身份證",
        "HKSAR": "香港特區",
        "MPF": "強積金",
        "eTAX": "電子報稅",
        "CSSA": "綜援",
        "e.g.": "例如",
        "etc.": "等等",
    },
    "cmn": {
        "HKID": "香港身份证",
        "HKSAR": "香港特区",
        "MPF": "强积金",
        "eTAX": "电子报税",
        "CSSA": "综援",
        "e.g.": "例如",
        "etc.": "等等",
    },
}
_ALL_CAPS = re.compile(r"(?<![A-Za-z])[A-Z]{2,6}(?![A-Za-z])")
_SPOKEN_AS_WORDS = frozenset({"COVID", "NATO", "UNESCO", "ASAP", "OK", "PIN", "FAQ"})


def _replace_abbreviations(text: str, language: SpokenLanguage) -> str:
    for short, spoken in sorted(ABBREVIATIONS[language].items(), key=lambda kv: -len(kv[0])):
        # ASCII boundaries, not \b: in 帶備HKID the Chinese character is a word character too
        pattern = re.escape(short) + ("(?![A-Za-z0-9])" if short[-1].isalnum() else "")
        text = re.sub(r"(?<![A-Za-z0-9.])" + pattern, spoken, text)
    if language == "en":  # other initialisms are spelt out: "FEHD" -> "F E H D"
        text = _ALL_CAPS.sub(lambda m: m[0] if m[0] in _SPOKEN_AS_WORDS else " ".join(m[0]), text)
    return text


# ---- numbers in words -------------------------------------------------------------------

_DIGIT_WORDS = {
    "en": ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"],
    "yue": list("零一二三四五六七八九"),
    "cmn": list("零幺二三四五六七八九"),
}


def _digits(number: str, language: SpokenLanguage) -> str:
    words = [_DIGIT_WORDS[language][int(d)] for d in number if d.isdigit()]
    return " ".join(words) if language == "en" else "".join(words)


def _en_number(number: str) -> str:
    value = number.replace(",", "")
    try:
        return num2words(float(value) if "." in value else int(value))
    except (ValueError, OverflowError):
        return _digits(value, "en")


def _zh_number(number: str, language: SpokenLanguage, *, quantity: bool = True) -> str:
    value = number.replace(",", "")
    try:
        words = cn2an.an2cn(value)
    except (ValueError, KeyError):
        return _digits(value, language)
    # a quantity of two is 兩/两 (兩蚊, 兩個, 兩千), not 二 (which is for counting/digits)
    if quantity and words.startswith("二") and not words.startswith(("二十", "二点", "二點")):
        words = ("兩" if language == "yue" else "两") + words[1:]
    return words


def _number(number: str, language: SpokenLanguage) -> str:
    return _en_number(number) if language == "en" else _zh_number(number, language)


# ---- phone numbers ------------------------------------------------------------------------

_PHONE_CUE = (
    r"(?:call|phone|tel|telephone|hotline|dial|fax|whatsapp"
    r"|熱線|热线|電話|电话|致電|致电|撥打|拨打|打|傳真|传真)"
)
_PHONE_CUED = re.compile(_PHONE_CUE + r"[\s:：.]*(\+?\d[\d\s-]{1,14}\d)", re.IGNORECASE)
_NOT_AFTER = r"(?<![\d$])(?<!\d[.,])"
_NOT_BEFORE = r"(?![\d%])(?![.,]\d)"
_HK_PHONE = re.compile(_NOT_AFTER + r"(?:\+852[\s-]?)?\d{4}[\s-]?\d{4}" + _NOT_BEFORE)
_KNOWN_HOTLINES = re.compile(_NOT_AFTER + r"(?:1823|999)" + _NOT_BEFORE)


# a Hong Kong identity card number (A123456(7)): its letters and digits one by one
_HKID_NUMBER = re.compile(r"(?<![A-Za-z0-9])([A-Z]{1,2})(\d{6})\s?\(?([0-9A])\)?(?![0-9])")
# floors as written in Hong Kong addresses: G/F is 地下, 2/F is 二樓
_FLOOR = re.compile(r"(?<![A-Za-z0-9])(G|\d{1,3})/F(?![A-Za-z])")


def _read_identifiers(text: str, language: SpokenLanguage) -> str:
    def hkid(match: re.Match[str]) -> str:
        letters = " ".join(match[1])
        check = match[3] if match[3] == "A" else _digits(match[3], language)
        return (
            f" {letters} {_digits(match[2], language)} {check} "
            if language == "en"
            else (f"{letters}{_digits(match[2], language)}{check}")
        )

    def floor(match: re.Match[str]) -> str:
        if language == "en":
            return "ground floor" if match[1] == "G" else f"floor {match[1]}"
        if match[1] == "G":
            return "地下"
        storey = "樓" if language == "yue" else "楼"
        return _zh_number(match[1], language, quantity=False) + storey

    return _FLOOR.sub(floor, _HKID_NUMBER.sub(hkid, text))


def _read_phones(text: str, language: SpokenLanguage) -> str:
    def spell(match: re.Match[str]) -> str:
        number = match[0] if match.re is not _PHONE_CUED else match[1]
        spoken = _digits(number, language)
        if match.re is _PHONE_CUED:
            return match[0].replace(number, f" {spoken} " if language == "en" else spoken)
        return f" {spoken} " if language == "en" else spoken

    for pattern in (_PHONE_CUED, _HK_PHONE, _KNOWN_HOTLINES):
        text = pattern.sub(spell, text)
    return text


# ---- money --------------------------------------------------------------------------------

_NUM = r"(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,2}))?"
_MONEY = re.compile(
    r"(HK\$|HKD\s?|US\$|USD\s?|RMB\s?|¥|￥|\$|港幣|港币)\s?"
    + _NUM
    + r"(\s?(?:萬|万|億|亿|million|billion|m\b|bn\b))?"
    + r"(?:\s?(?:元|圓|圆|蚊))?",  # 港幣370元: the unit is said once
    re.IGNORECASE,
)
_CURRENCY_EN = {
    "hk$": "Hong Kong dollar",
    "hkd": "Hong Kong dollar",
    "us$": "US dollar",
    "usd": "US dollar",
    "rmb": "yuan",
    "¥": "yuan",
    "￥": "yuan",
    "$": "dollar",
    "港幣": "Hong Kong dollar",
    "港币": "Hong Kong dollar",
}
_CURRENCY_ZH = {
    "hk$": "港元",
    "hkd": "港元",
    "us$": "美元",
    "usd": "美元",
    "rmb": "人民幣",
    "¥": "人民幣",
    "￥": "人民幣",
    "$": "元",
    "港幣": "港元",
    "港币": "港元",
}
_SCALE_EN = {
    "萬": " ten thousand",
    "万": " ten thousand",
    "億": " hundred million",
    "亿": " hundred million",
    "million": " million",
    "m": " million",
    "billion": " billion",
    "bn": " billion",
}
_SCALE_ZH = {"million": "百萬", "m": "百萬", "billion": "十億", "bn": "十億"}


def _read_money(text: str, language: SpokenLanguage) -> str:
    def say(match: re.Match[str]) -> str:
        symbol = match[1].strip().lower()
        whole, cents, scale = match[2], match[3], (match[4] or "").strip().lower()
        return (_money_en if language == "en" else _money_zh)(symbol, whole, cents, scale, language)

    return _MONEY.sub(say, text)


def _money_en(symbol: str, whole: str, cents: str | None, scale: str, _: SpokenLanguage) -> str:
    unit = _CURRENCY_EN[symbol]
    if scale:
        amount = whole + (f".{cents}" if cents else "")
        return f" {_en_number(amount)}{_SCALE_EN[scale]} {unit}s "
    words = f"{_en_number(whole)} {unit}{'' if whole == '1' else 's'}"
    if cents and int(cents):
        words += f" {_en_number(str(int(cents.ljust(2, '0'))))} cents"
    return f" {words} "


def _money_zh(
    symbol: str, whole: str, cents: str | None, scale: str, language: SpokenLanguage
) -> str:
    amount = _zh_number(whole + (f".{cents}" if cents and scale else ""), language)
    scale_words = _SCALE_ZH.get(scale, scale)
    hong_kong = symbol in ("$", "hk$", "hkd", "港幣", "港币")
    if hong_kong and language == "yue":
        # colloquial Cantonese: $2.50 is 兩蚊五毫, HK$370 is 港幣三百七十蚊, HK$3萬 港幣三萬
        words = ("" if symbol == "$" else "港幣") + amount
        if scale:
            return words + scale_words
        ten_cents = int(cents.ljust(2, "0")[0]) if cents else 0
        if int(whole.replace(",", "")) == 0 and ten_cents:  # HK$0.50 is 五毫, not 零蚊五毫
            words = words[: -len(amount)]
        else:
            words += "蚊"
        if ten_cents:
            words += f"{_zh_number(str(ten_cents), language)}毫"
        return words
    words = f"{amount}{scale_words}{_CURRENCY_ZH[symbol]}"
    if cents and not scale and int(cents):
        jiao, fen = cents.ljust(2, "0")
        words += f"{_DIGIT_WORDS['yue'][int(jiao)]}角" if int(jiao) else "零"
        words += f"{_DIGIT_WORDS['yue'][int(fen)]}分" if int(fen) else ""
    return words


# ---- dates, times, percentages ----------------------------------------------------------

_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
# (?<!\d) rather than \b: in Chinese text a digit follows a word character (下午3:30)
_ISO_DATE = re.compile(r"(?<!\d)(\d{4})-(\d{1,2})-(\d{1,2})(?!\d)")
_DMY_DATE = re.compile(r"(?<!\d)(\d{1,2})/(\d{1,2})/(\d{4})(?!\d)")  # HK writes day first
_TIME = re.compile(r"(?<![\d:])(\d{1,2}):(\d{2})(?![\d:])\s?(am|pm|a\.m\.|p\.m\.)?", re.IGNORECASE)
_PERCENT = re.compile(r"(\d+(?:\.\d+)?)\s?%")
_ORDINAL = re.compile(r"\b(\d+)(st|nd|rd|th)\b")


def _date(year: str, month: str, day: str, language: SpokenLanguage) -> str | None:
    m, d = int(month), int(day)
    if not (1 <= m <= 12 and 1 <= d <= 31):
        return None
    if language == "en":
        year_words = num2words(int(year), to="year")
        return f" the {num2words(d, to='ordinal')} of {_MONTHS[m - 1]} {year_words} "
    # read by cn2an below: 二零二四年三月一日; a Hong Kong Cantonese speaker says 一號
    return f"{year}年{m}月{d}{'號' if language == 'yue' else '日'}"


_CHINESE_DAY = re.compile(r"(?<=\d月)(\d{1,2})日")


def _read_dates_times(text: str, language: SpokenLanguage) -> str:
    if language == "yue":
        text = _CHINESE_DAY.sub(r"\1號", text)  # 12月1日 is said 十二月一號
    text = _ISO_DATE.sub(lambda m: _date(m[1], m[2], m[3], language) or m[0], text)
    text = _DMY_DATE.sub(lambda m: _date(m[3], m[2], m[1], language) or m[0], text)

    def time_of_day(m: re.Match[str]) -> str:
        hour, minute = int(m[1]), int(m[2])
        if hour > 23 or minute > 59:
            return m[0]
        suffix = (m[3] or "").lower().replace(".", "")
        if language == "en":
            minutes = (
                ""
                if minute == 0
                else (f" oh {num2words(minute)}" if minute < 10 else f" {num2words(minute)}")
            )
            tail = {"am": " A M", "pm": " P M"}.get(suffix, "" if minute else " o'clock")
            return f"{num2words(hour)}{minutes}{tail}"
        prefix = {"am": "上午", "pm": "下午"}.get(suffix, "")
        if language == "yue" and not suffix and 13 <= hour <= 23:
            # a Hong Kong speaker says 17:00 as 下午五點, 19:30 as 晚上七點半
            prefix, hour = ("下午" if hour <= 18 else "晚上"), hour - 12
        hour_word = _zh_number(str(hour), language)
        if minute == 0:
            return f"{prefix}{hour_word}點"
        if minute == 30 and language == "yue":
            return f"{prefix}{hour_word}點半"
        return f"{prefix}{hour_word}點{cn2an.an2cn(str(minute))}分"

    return _TIME.sub(time_of_day, text)


def _read_percent(text: str, language: SpokenLanguage) -> str:
    if language == "en":
        return _PERCENT.sub(lambda m: f"{_en_number(m[1])} percent", text)
    return _PERCENT.sub(lambda m: "百分之" + _zh_number(m[1], language, quantity=False), text)


_BARE_NUMBER = re.compile(r"(?<![\w.])(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?(?![\w])")
_ZH_DIGIT_RUN = re.compile(r"\d+(?:\.\d+)?")
# after these a number is a quantity, so 2 is 兩/两 (兩個, 两天); otherwise 二 (第二, 二號)
_MEASURE_WORDS = frozenset("個个位次間间本張张隻只條条份天日年歲岁星週周小分秒件項项種种蚊元")


# a financial year (2023/24年度, 2023-24年度) is said 二零二三至二四年度
_FINANCIAL_YEAR = re.compile(r"(?<!\d)(\d{4})\s?[/-]\s?(\d{2})(?=\s?年度)")
# a range between two amounts, numbers or times once they are words: 三-五個 is 三至五個
_ZH_RANGE = re.compile(
    r"(?<=[零一二三四五六七八九十百千萬万兩两點点半分蚊號号元])\s*[-–—~～]\s*"
    r"(?=[零一二三四五六七八九十百千萬万兩两上下晚中港])"
)


def _read_ranges(text: str, language: SpokenLanguage) -> str:
    if language == "en":
        return text
    return _ZH_RANGE.sub("至", text)


def _read_numbers(text: str, language: SpokenLanguage) -> str:
    if language == "en":
        text = _ORDINAL.sub(lambda m: num2words(int(m[1]), to="ordinal"), text)
        return _BARE_NUMBER.sub(lambda m: _en_number(m[1] + (m[2] or "")), text)
    text = re.sub(r"(?<=\d),(?=\d{3})", "", text)
    text = _FINANCIAL_YEAR.sub(
        lambda m: f"{_digits(m[1], language)}至{_digits(m[2], language)}", text
    )
    # years are read digit by digit (二零二四年); other numbers as quantities
    text = re.sub(r"(\d{4})(?=年)", lambda m: _digits(m[1], "yue"), text)

    def say(m: re.Match[str]) -> str:
        quantity = m.string[m.end() : m.end() + 1] in _MEASURE_WORDS
        return _zh_number(m[0], language, quantity=quantity)

    return _ZH_DIGIT_RUN.sub(say, text)


# ---- entry point ------------------------------------------------------------------------

_STEPS: tuple[Callable[[str, SpokenLanguage], str], ...] = (
    _read_identifiers,
    _read_phones,
    _read_money,  # before abbreviations, so HK$ is money and not the letters H K
    _replace_abbreviations,
    _read_dates_times,
    _read_percent,
    _read_numbers,
    _read_ranges,  # last: both ends are words by now
)


def normalise_for_speech(text: str, language: SpokenLanguage) -> str:
    """Text ready for a synthesizer in `language` (yue | cmn | en)."""
    text = strip_markup(text)
    for step in _STEPS:
        text = step(text, language)
    text = _SPACES.sub(" ", text).strip()
    text = re.sub(r"\s+([,.!?;:，。！？；：])", r"\1", text)
    return to_script(text, language) if language != "en" else text
