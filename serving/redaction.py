"""Privacy in logs: HKID numbers, Hong Kong phone numbers and emails never reach a log line.

Transcripts and typed questions are logged for operators; callers say their identity card and
phone numbers aloud. A logging filter on every handler rewrites the formatted message, so
any logger (ours, uvicorn's, a library's) is covered without each call site remembering to.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

# Redaction reads each text through a same-length "digit view": full-width letters, digits,
# brackets and spaces become ASCII and Chinese numerals become digits, one character for one,
# so a match in the view is a span to blank out in the original (which is logged unchanged
# otherwise: NFKC on a whole log line would rewrite its Chinese punctuation).
_VIEW = str.maketrans(
    {
        **{chr(0xFF10 + i): str(i) for i in range(10)},  # ０-９
        **{chr(0xFF21 + i): chr(0x41 + i) for i in range(26)},  # Ａ-Ｚ
        **{chr(0xFF41 + i): chr(0x61 + i) for i in range(26)},  # ａ-ｚ
        "（": "(", "）": ")", "［": "(", "］": ")", "【": "(", "】": ")", "＋": "+", "－": "-",
        "‐": "-", "‑": "-", "–": "-", "—": "-", "＠": "@", "．": ".", "\u3000": " ", "\u00a0": " ",
        "零": "0", "〇": "0", "○": "0", "洞": "0", "一": "1", "壹": "1", "幺": "1", "二": "2",
        "貳": "2", "兩": "2", "两": "2", "三": "3", "參": "3", "四": "4", "肆": "4", "五": "5",
        "伍": "5", "六": "6", "陸": "6", "七": "7", "柒": "7", "八": "8", "捌": "8", "九": "9",
        "玖": "9",
    }
)  # fmt: skip
_GAP = r"[ \t]{0,3}"  # spaces a transcript or a careless form puts between digits
_BRACKET_WORD = r"(?:open(?:ing)?[ \t]+)?(?:brackets?|parenthes[ie]s|括號|括号|括弧)"
_CLOSE_WORD = r"(?:[ \t]*(?:close(?:d)?[ \t]+)?(?:brackets?|parenthes[ie]s|括號|括号|括弧))?"
# HKID: one or two letters, six digits, a check digit (0-9 or A), usually in brackets:
# A123456(7), AB987654(A), A1234567, A 123456 (7), Ａ１２３４５６（７）, and as spoken to ASR,
# "a 123456 bracket 7". Case-insensitive because ASR may write it lower case.
HKID = re.compile(
    rf"(?<![0-9A-Za-z])[A-Za-z]{{1,2}}{_GAP}\d(?:{_GAP}\d){{5}}{_GAP}"
    rf"(?:\({_GAP}[0-9Aa]{_GAP}\)|{_BRACKET_WORD}{_GAP}[0-9Aa]{_CLOSE_WORD}|[0-9Aa])"
    r"(?![0-9A-Za-z])",
    re.IGNORECASE,
)
# HK phone numbers: eight digits starting 2, 3, 5, 6, 7, 8 or 9, with an optional +852 / 852
# prefix; written 4+4 with a hyphen, or with any spacing (9123  4567, 9 1 2 3 4 5 6 7), in
# full-width digits or Chinese numerals (九一二三四五六七). A run inside a longer token of
# letters and digits (a hex session id like 52b4b2ec90091234) is not a phone number; short
# numbers like 1823 or 999 and dates (2024-01-15) are kept.
PHONE = re.compile(
    r"(?<![0-9A-Za-z+])(?:\+?\(?852\)?[ \t-]{0,3})?"
    rf"(?:[235-9]\d{{3}}-\d{{4}}|[235-9](?:{_GAP}\d){{7}})"
    r"(?![0-9A-Za-z])"
)
# phone numbers read out in English words: "nine one two three, four five six seven"
_DIGIT_WORD = r"(?:zero|oh|o|one|two|three|four|five|six|seven|eight|nine)"
_SPOKEN_DIGITS = rf"(?:(?:double|triple)[ \t]+)?{_DIGIT_WORD}"
SPOKEN_PHONE = re.compile(
    rf"\b{_SPOKEN_DIGITS}(?:[ \t,\-]+{_SPOKEN_DIGITS}){{4,}}\b", re.IGNORECASE
)


def _spoken_digits(match: re.Match[str]) -> bool:
    """Eight digits or more once "double" and "triple" are counted."""
    words = re.findall(r"[a-z]+", match.group(0).lower())
    extra = {"double": 1, "triple": 2}  # "double one" is two digits, one word each
    return sum(extra.get(word, 1) for word in words) >= 8


EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")

_RULES = (
    (EMAIL, "[email]", None),
    (HKID, "[hkid]", None),
    (PHONE, "[phone]", None),
    (SPOKEN_PHONE, "[phone]", _spoken_digits),
)


def _substitute(
    pattern: re.Pattern[str],
    placeholder: str,
    text: str,
    keep: Callable[[re.Match[str]], bool] | None = None,
) -> str:
    """Replace the spans `pattern` finds in the text's digit view, in the original text."""
    view = text.translate(_VIEW)
    spans = [m.span() for m in pattern.finditer(view) if keep is None or keep(m)]
    for start, end in reversed(spans):
        text = text[:start] + placeholder + text[end:]
    return text


def redact(text: str) -> str:
    for pattern, placeholder, keep in _RULES:
        text = _substitute(pattern, placeholder, text, keep)
    return text


class RedactingFilter(logging.Filter):
    """Redacts each record's formatted message (and its traceback) in place.

    The message is merged with its arguments and redacted whole (so a number split across
    arguments is still caught), except for loggers whose formatters read the arguments
    (uvicorn's access log unpacks client, method, path, status): their arguments are
    redacted one by one instead.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name in _FORMATTERS_READ_ARGS and isinstance(record.args, tuple):
            record.msg = redact(str(record.msg))
            record.args = tuple(_redact_value(a) for a in record.args)
        else:
            record.msg, record.args = redact(record.getMessage()), None
        if record.exc_info and not record.exc_text:
            # formatters reuse a cached exc_text: fill it now, so the traceback is redacted too
            record.exc_text = _TRACEBACKS.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


_FORMATTERS_READ_ARGS = frozenset({"uvicorn.access"})


def _redact_value(value: object) -> object:
    """Strings are redacted; numbers stay numbers (a `%d` must still format); other objects
    are redacted as their text."""
    if isinstance(value, str):
        return redact(value)
    if value is None or isinstance(value, int | float | bool):
        return value
    return redact(str(value))


_TRACEBACKS = logging.Formatter()


_LOGGERS_WITH_OWN_HANDLERS = ("uvicorn", "uvicorn.error", "uvicorn.access")


def install_redaction() -> None:
    """Adds the filter to the root handlers and uvicorn's (idempotent)."""
    if not logging.getLogger().handlers:
        logging.basicConfig(
            level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
        )
    for name in ("", *_LOGGERS_WITH_OWN_HANDLERS):
        for handler in logging.getLogger(name).handlers:
            if not any(isinstance(f, RedactingFilter) for f in handler.filters):
                handler.addFilter(RedactingFilter())
