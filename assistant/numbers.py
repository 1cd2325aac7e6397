"""Numeric values in text, however they are written, for the fact check (assistant/gate.py).

An answer may say a figure differently from its source: "HK$1,000", "1000 dollars",
"one thousand", "港幣一千元", "1千", "1.2 million", "1.2百萬" and "2835 3376" vs "28353376"
must all read as the same value, or a correct answer fails the check (and a wrong one written
in words slips through it). Each form becomes a Decimal:
- Arabic numerals with thousands separators and decimals;
- Chinese numerals (cn2an), including mixes of digits and 十/百/千/萬/億 multipliers;
- English number words ("three hundred and seventy", "twenty-five", "a thousand") and
  ordinals up to thirty-first;
- scale words after digits ("1.2 million", "3 thousand", "HK$2bn": one value, 1.2 alone
  is not read);
- month names (a date's month counts as a number);
- phone numbers written in groups ("2835 3376", "2835-3376") as one number.
"""

from __future__ import annotations

import contextlib
import re
from decimal import Decimal, InvalidOperation

import cn2an

from assistant.speakable import CITATION_MARK

_NUMBER = re.compile(r"\d+(?:,\d{3})*(?:\.\d+)?")
# 8-digit Hong Kong numbers in two groups, optionally after +852: read as one number
_PHONE = re.compile(r"(?<![\d.,])(\d{4})[ \-\u00a0](\d{4})(?!\d|[.,]\d)")
_MONTHS = {
    m: n
    for n, names in enumerate(
        # "may" is left out: as a verb it is far commoner than the month
        [("january",), ("february",), ("march",), ("april",), (), ("june",), ("july",),
         ("august",), ("september", "sept"), ("october",), ("november",), ("december",)],
        start=1,
    )
    for m in names
}  # fmt: skip
_MONTH_WORD = re.compile(r"\b(" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\b", re.I)

_UNITS = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_TENS = ["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_ORDINALS = [
    "zeroth",
    "first",
    "second",
    "third",
    "fourth",
    "fifth",
    "sixth",
    "seventh",
    "eighth",
    "ninth",
    "tenth",
    "eleventh",
    "twelfth",
    "thirteenth",
    "fourteenth",
    "fifteenth",
    "sixteenth",
    "seventeenth",
    "eighteenth",
    "nineteenth",
]
_WORD_VALUES: dict[str, int] = {w: n for n, w in enumerate(_UNITS)}
_WORD_VALUES |= {w: 10 * (n + 2) for n, w in enumerate(_TENS)}
_WORD_VALUES |= {w: n for n, w in enumerate(_ORDINALS) if n > 0}
_WORD_VALUES |= {"twentieth": 20, "thirtieth": 30, "dozen": 12}
_SCALES = {"hundred": 100, "thousand": 1000, "million": 10**6, "mn": 10**6, "billion": 10**9}
_SCALES["bn"] = 10**9
_WORD = re.compile(r"[A-Za-z]+")
# digits followed by an English scale word: "1.2 million", "HK$2bn"
_SCALED = re.compile(
    r"(\d+(?:,\d{3})*(?:\.\d+)?)\s*(hundred|thousand|million|billion|mn|bn)\b", re.I
)
# digits followed by a Chinese multiplier the numeral converter does not take: 1.5萬, 3千
_CJK_SCALED = re.compile(r"(\d+(?:\.\d+)?)\s*(百萬|百万|千萬|千万|萬|万|億|亿|千|百)")
_CJK_SCALES = {
    "百": 100,
    "千": 1000,
    "萬": 10**4,
    "万": 10**4,
    "百萬": 10**6,
    "百万": 10**6,
    "千萬": 10**7,
    "千万": 10**7,
    "億": 10**8,
    "亿": 10**8,
}


def is_number_word(word: str) -> bool:
    """Whether an English word can be (part of) a number: "three", "hundred", "first",
    "million", a month name. Text shown before its sentence ends holds these back: the next
    word may change the value ("three" -> "three hundred")."""
    word = word.lower()
    return word in _WORD_VALUES or word in _SCALES or word in _MONTHS


def _as_number(text: str) -> Decimal | None:
    try:
        return Decimal(text.replace(",", "")).normalize()
    except InvalidOperation:
        return None


def _join_phone_numbers(text: str) -> str:
    return _PHONE.sub(r"\1\2", text)


def _scale_cjk(match: re.Match[str]) -> str:
    value = _as_number(match.group(1))
    if value is None:
        return match.group(0)
    return format((value * _CJK_SCALES[match.group(2)]).normalize(), "f")


def _chinese_to_digits(text: str) -> str:
    text = _CJK_SCALED.sub(_scale_cjk, text)
    with contextlib.suppress(ValueError, KeyError, IndexError):  # cn2an gives up on odd mixes
        text = cn2an.transform(text, "cn2an")
    return _CJK_SCALED.sub(_scale_cjk, text)


def _scale_english(match: re.Match[str]) -> str:
    value = _as_number(match.group(1))
    if value is None:
        return match.group(0)
    return format((value * _SCALES[match.group(2).lower()]).normalize(), "f")


def english_number_values(text: str) -> set[Decimal]:
    """Values written with English number words ("three hundred and seventy", "a thousand")."""
    values: set[Decimal] = set()
    total = current = Decimal(0)
    in_number = False

    def close() -> None:
        nonlocal total, current, in_number
        if in_number:
            values.add((total + current).normalize())
        total = current = Decimal(0)
        in_number = False

    words = [w.lower() for w in _WORD.findall(text)]
    for i, word in enumerate(words):
        if word in _WORD_VALUES and (in_number or word not in ("first", "second")):
            current += _WORD_VALUES[word]  # "first"/"second" alone are rarely figures
            in_number = True
        elif word in _SCALES:
            if not in_number:  # "a hundred", "a thousand"; else not a number
                if i == 0 or words[i - 1] != "a":
                    continue
                current, in_number = Decimal(1), True
            if _SCALES[word] == 100:
                current *= 100
            else:
                total += current * _SCALES[word]
                current = Decimal(0)
        elif word == "and" and in_number:
            continue
        else:
            close()
    close()
    return values


def numbers_in(text: str) -> set[Decimal]:
    """Every numeric value in `text` (see the module docstring for the forms read)."""
    text = CITATION_MARK.sub("", text)
    text = _join_phone_numbers(text)
    text = _chinese_to_digits(text)
    text = _SCALED.sub(_scale_english, text)
    values = {v for v in map(_as_number, _NUMBER.findall(text)) if v is not None}
    values |= english_number_values(text)
    values |= {Decimal(_MONTHS[m.lower()]) for m in _MONTH_WORD.findall(text)}
    return values
