"""Guards of the voice socket: a token bucket against floods of frames, the Origin check,
and per-client (per-IP) limits on concurrent sessions and on connections per minute."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from urllib.parse import urlsplit


class TokenBucket:
    """`rate` tokens per second, at most `burst` saved up; `take()` False = over the limit."""

    def __init__(
        self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate, self.burst, self._clock = rate, float(burst), clock
        self._tokens, self._last = float(burst), clock()

    def take(self) -> bool:
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
        self._last = now
        if self._tokens < 1.0:
            return False
        self._tokens -= 1.0
        return True


def origin_allowed(origin: str | None, host: str | None, allowed: list[str]) -> bool:
    """Whether a browser page at `origin` may open a voice session on this server.

    No Origin header: not a browser (curl, a phone gateway): allowed, browsers always send
    one. `allowed` empty (the default): same origin only, the Origin's host:port must be the
    Host the socket was opened on. `"*"`: any origin. Otherwise an exact match of scheme, host
    and port ("https://www.dept.gov.hk"), so look-alikes (`...gov.hk.evil.example`) fail.
    """
    if origin is None:
        return True
    if "*" in allowed:
        return True
    origin = origin.strip().rstrip("/").lower()
    if not allowed:
        netloc = urlsplit(origin).netloc
        return bool(host) and netloc == (host or "").strip().lower()
    return origin in {a.strip().rstrip("/").lower() for a in allowed}


class ClientLimiter:
    """Per-client (per-IP) limits on voice sessions: how many at once, how fast they connect.

    One address cannot hold every line (`max_sessions_per_ip`) nor reconnect in a tight loop
    (`connects_per_minute`, a token bucket with a burst of the same size). Memory is bounded:
    at most `max_clients` addresses are tracked, idle ones forgotten first.
    """

    def __init__(
        self,
        max_sessions_per_ip: int,
        connects_per_minute: float,
        *,
        max_clients: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_sessions_per_ip = max_sessions_per_ip
        self.connects_per_minute = connects_per_minute
        self.max_clients = max_clients
        self._clock = clock
        self._open: dict[str, int] = {}
        self._buckets: OrderedDict[str, TokenBucket] = OrderedDict()

    def admit(self, client: str) -> str | None:
        """None when `client` may open a session now (and it is counted), else the reason code."""
        bucket = self._buckets.get(client)
        if bucket is None:
            burst = max(1, int(self.connects_per_minute))
            bucket = TokenBucket(self.connects_per_minute / 60.0, burst, self._clock)
            self._buckets[client] = bucket
            self._forget_idle()
        self._buckets.move_to_end(client)
        if not bucket.take():
            return "connect_rate_limited"
        if self._open.get(client, 0) >= self.max_sessions_per_ip:
            return "too_many_sessions"
        self._open[client] = self._open.get(client, 0) + 1
        return None

    def release(self, client: str) -> None:
        left = self._open.get(client, 0) - 1
        if left > 0:
            self._open[client] = left
        else:
            self._open.pop(client, None)

    def open_sessions(self, client: str) -> int:
        return self._open.get(client, 0)

    def _forget_idle(self) -> None:
        for client in list(self._buckets):
            if len(self._buckets) <= self.max_clients:
                return
            if client not in self._open:
                del self._buckets[client]
