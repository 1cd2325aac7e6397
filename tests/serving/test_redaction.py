import io
import logging

import pytest

from serving.redaction import RedactingFilter, redact


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("my HKID is A123456(7) thanks", "my HKID is [hkid] thanks"),
        ("身份證號碼係 AB987654(A) 喎", "身份證號碼係 [hkid] 喎"),
        ("hkid z6543210 then", "hkid [hkid] then"),
        ("call me on 9123 4567", "call me on [phone]"),
        ("電話 +852 6123-4567。", "電話 [phone]。"),
        ("or 85221234567", "or [phone]"),
        ("mail chan.tai-man+x@example.gov.hk now", "mail [email] now"),
    ],
)
def test_personal_data_is_redacted(text: str, kept: str) -> None:
    assert redact(text) == kept


@pytest.mark.parametrize(
    "text",
    [
        "call the 1823 hotline",
        "the fee is HK$1,000 for 48 pages",
        "a 32-page passport costs $370",
        "reference 2024-01-15",
        "Old Age Living Allowance of $4,195 a month",
        "個案編號 123456789012",  # longer digit runs are not phone numbers
    ],
)
def test_ordinary_numbers_are_kept(text: str) -> None:
    assert redact(text) == text


def test_filter_redacts_formatted_records_and_tracebacks() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter())
    logger = logging.getLogger("samyu.test.redaction")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("transcript: %s", "I am A123456(7), phone 9876 5432, a@b.hk")
        try:
            raise ValueError("bad HKID B765432(1)")
        except ValueError:
            logger.exception("failed for %s", "x@y.com")
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
    text = stream.getvalue()
    assert "A123456" not in text and "9876" not in text and "a@b.hk" not in text
    assert "B765432" not in text and "x@y.com" not in text
    assert "ValueError: bad HKID [hkid]" in text and "[phone]" in text and "[email]" in text
    assert "ValueError" in text  # the traceback is still there, only redacted


def test_install_covers_root_handlers() -> None:
    from serving.redaction import install_redaction

    install_redaction()
    install_redaction()  # idempotent
    for handler in logging.getLogger().handlers:
        assert sum(isinstance(f, RedactingFilter) for f in handler.filters) == 1


def test_formatters_that_read_the_arguments_still_work() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter())
    # uvicorn's access formatter unpacks record.args (client, method, path, version, status)
    handler.setFormatter(
        __import__("uvicorn.logging", fromlist=["AccessFormatter"]).AccessFormatter(
            "%(client_addr)s %(request_line)s %(status_code)s", use_colors=False
        )
    )
    logger = logging.getLogger("uvicorn.access")
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.info(
            '%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET", "/q?mail=a@b.hk", "1.1", 200
        )
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
    lines = stream.getvalue().splitlines()
    assert lines[0] == "127.0.0.1:5000 GET /q?mail=[email] HTTP/1.1 200 OK"
    assert len(lines) == 1


def test_numbers_split_across_arguments_are_still_redacted() -> None:
    record = logging.LogRecord(
        "samyu.x", logging.INFO, __file__, 1, "call %s %s", ("9123", "4567"), None
    )
    RedactingFilter().filter(record)
    assert record.getMessage() == "call [phone]"
