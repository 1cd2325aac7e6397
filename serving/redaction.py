"""Privacy in logs: HKID numbers, Hong Kong phone numbers and emails never reach a log line.

Transcripts and typed questions are logged for operators; callers say their identity card and
phone numbers aloud. A logging filter on every handler rewrites the formatted message, so
any logger (ours, uvicorn's, a library's) is covered without each call site remembering to.
"""

from __future__ import annotations

import logging
import re

# HKID: one or two letters, six digits, a check digit (0-9 or A), usually in brackets:
# A123456(7), AB987654(A), A1234567. Case-insensitive because ASR may write it lower case.
HKID = re.compile(
    r"(?<![A-Za-z0-9])[A-Za-z]{1,2}\d{6}\s?(?:\(\s?[0-9Aa]\s?\)|[0-9Aa])(?![0-9A-Za-z])"
)
# HK phone numbers: eight digits starting 2, 3, 5, 6, 7, 8 or 9 (4+4 with an optional space or
# hyphen), with an optional +852 / 852 prefix. Short numbers like 1823 or 999 are kept.
PHONE = re.compile(r"(?<![\d+])(?:\+?852[\s-]?)?[235-9]\d{3}[\s-]?\d{4}(?!\d)")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")

_RULES = ((EMAIL, "[email]"), (HKID, "[hkid]"), (PHONE, "[phone]"))


def redact(text: str) -> str:
    for pattern, placeholder in _RULES:
        text = pattern.sub(placeholder, text)
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
