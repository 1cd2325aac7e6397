"""The socket guards as plain functions: Origin rules and per-client limits (fake clock)."""

from __future__ import annotations

import pytest

from serving.limits import ClientLimiter, origin_allowed

HOST = "voice.dept.gov.hk"


@pytest.mark.parametrize(
    ("origin", "allowed", "ok"),
    [
        (None, [], True),  # not a browser
        (f"https://{HOST}", [], True),  # same origin (default)
        (f"http://{HOST}", [], True),
        ("https://evil.example", [], False),
        (f"https://{HOST}.evil.example", [], False),
        (f"https://evil.example/{HOST}", [], False),
        ("null", [], False),
        ("https://www.dept.gov.hk", ["https://www.dept.gov.hk"], True),
        ("https://WWW.dept.gov.hk/", ["https://www.dept.gov.hk"], True),
        ("https://www.dept.gov.hk.evil.example", ["https://www.dept.gov.hk"], False),
        ("http://www.dept.gov.hk", ["https://www.dept.gov.hk"], False),
        ("https://www.dept.gov.hk:8443", ["https://www.dept.gov.hk"], False),
        (f"https://{HOST}", ["https://www.dept.gov.hk"], False),  # a list replaces same-origin
        ("https://anything.example", ["*"], True),
    ],
)
def test_origin_rules(origin: str | None, allowed: list[str], ok: bool) -> None:
    assert origin_allowed(origin, HOST, allowed) is ok


def test_sessions_per_client_and_connect_rate() -> None:
    now = [0.0]
    limiter = ClientLimiter(2, connects_per_minute=3, clock=lambda: now[0])
    assert limiter.admit("10.0.0.1") is None
    assert limiter.admit("10.0.0.1") is None
    assert limiter.admit("10.0.0.1") == "too_many_sessions"
    assert limiter.admit("10.0.0.2") is None  # another caller is not affected
    limiter.release("10.0.0.1")
    assert limiter.admit("10.0.0.1") == "connect_rate_limited"  # 4th connect this minute
    now[0] += 20.0  # one connect regained (3 a minute)
    assert limiter.admit("10.0.0.1") is None
    assert limiter.open_sessions("10.0.0.1") == 2


def test_memory_is_bounded_by_forgetting_idle_clients() -> None:
    limiter = ClientLimiter(1, connects_per_minute=10, max_clients=100)
    for n in range(1000):
        assert limiter.admit(f"10.0.{n // 256}.{n % 256}") is None
        limiter.release(f"10.0.{n // 256}.{n % 256}")
    assert len(limiter._buckets) <= 101
