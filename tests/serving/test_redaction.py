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


# Each row: (what a log line held, what must be logged). Redacted and kept forms side by side,
# so one table shows both directions: nothing leaked, nothing over-redacted.
REDACTION_TABLE = [
    # HKID, written
    ("A123456(7)", "[hkid]"),
    ("A123456（7）", "[hkid]"),
    ("A 123456 (7)", "[hkid]"),
    ("A123456 ( 7 )", "[hkid]"),
    ("AB987654(A)", "[hkid]"),
    ("ab987654(a)", "[hkid]"),
    ("A1234567", "[hkid]"),
    ("Ａ１２３４５６（７）", "[hkid]"),
    ("A１２３４５６(７)", "[hkid]"),
    ("Y 1 2 3 4 5 6 (A)", "[hkid]"),
    ("身份證：C668668【9】", "身份證：[hkid]"),
    ("身份證號碼係A一二三四五六（七）", "身份證號碼係[hkid]"),
    # HKID, spoken to the recogniser
    ("my id is a 123456 bracket 7", "my id is [hkid]"),
    ("a 123456 open bracket 7 close bracket", "[hkid]"),
    ("Z 654321 brackets A", "[hkid]"),
    ("K123456 括號 3", "[hkid]"),
    # phones
    ("9123 4567", "[phone]"),
    ("9123  4567", "[phone]"),
    ("9123-4567", "[phone]"),
    ("91234567", "[phone]"),
    ("9 1 2 3 4 5 6 7", "[phone]"),
    ("912 345 67", "[phone]"),
    ("+852 9123 4567", "[phone]"),
    ("+852-2123-4567", "[phone]"),
    ("(852) 2123 4567", "[phone]"),
    ("85221234567", "[phone]"),
    ("９１２３４５６７", "[phone]"),
    ("９１２３　４５６７", "[phone]"),
    ("＋８５２ ９１２３４５６７", "[phone]"),
    ("九一二三四五六七", "[phone]"),
    ("九一二三 四五六七", "[phone]"),
    ("電話係六零一二三四五六。", "電話係[phone]。"),
    ("打去二八三三 零零零零啦", "打去[phone]啦"),
    ("nine one two three four five six seven", "[phone]"),
    ("Nine one two three, four five six seven", "[phone]"),
    ("six double one two three four five six", "[phone]"),
    ("three triple eight four five six seven", "[phone]"),
    ("call 5123 4567 or 6123 4567", "call [phone] or [phone]"),
    # emails
    ("chan.tai-man+x@example.gov.hk", "[email]"),
    ("寄去 someone@mail.hk 啦", "寄去 [email] 啦"),
    # kept: hex ids, short and long numbers, dates, times, money, measures
    ("session 52b4b2ec90091234 closed", "session 52b4b2ec90091234 closed"),
    ("job 9f86d081884c7d65 done", "job 9f86d081884c7d65 done"),
    ("chunk id a1234567b", "chunk id a1234567b"),
    ("version v0001733000000-abc123", "version v0001733000000-abc123"),
    ("sha256 5a9123456789abcdef", "sha256 5a9123456789abcdef"),
    ("call the 1823 hotline", "call the 1823 hotline"),
    ("999 for emergencies", "999 for emergencies"),
    ("reference 2024-01-15", "reference 2024-01-15"),
    ("2026-12-01 03:46:59,123 INFO", "2026-12-01 03:46:59,123 INFO"),
    ("個案編號 123456789012", "個案編號 123456789012"),
    ("the fee is HK$1,000 for 48 pages", "the fee is HK$1,000 for 48 pages"),
    ("timings 2.3 4.5 6.7 8.9", "timings 2.3 4.5 6.7 8.9"),
    ("one two three four five", "one two three four five"),
    ("一二三四五六七八", "一二三四五六七八"),
    ("第三期：二零二四年", "第三期：二零二四年"),
    ("pid 12345 port 54321", "pid 12345 port 54321"),
    ("127.0.0.1:8000", "127.0.0.1:8000"),
    ("1234 5678", "1234 5678"),  # starts with 1: not an HK subscriber number
    ("A12345(6)", "A12345(6)"),  # five digits: not an HKID
]


@pytest.mark.parametrize(("logged", "expected"), REDACTION_TABLE)
def test_redaction_table(logged: str, expected: str) -> None:
    assert redact(logged) == expected


def test_the_table_is_big_enough_and_both_ways() -> None:
    changed = sum(1 for logged, expected in REDACTION_TABLE if logged != expected)
    assert len(REDACTION_TABLE) >= 50
    assert changed >= 30 and len(REDACTION_TABLE) - changed >= 15


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
