"""Prometheus metrics of the voice server, in a registry per app (tests build many apps)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

# Timing stages of a turn, as in the `turn_end` frame's `timings` (milliseconds there).
STAGES = ("asr", "retrieval", "first_token", "first_audio", "voice_to_voice")
_BUCKETS_S = (0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 8.0, 13.0, 20.0, 30.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.sessions_active = Gauge("samyu_sessions_active", "Open voice sessions.", registry=r)
        self.sessions = Counter("samyu_sessions", "Voice sessions accepted (started).", registry=r)
        self.sessions_refused = Counter(
            "samyu_sessions_refused", "Sockets refused, by reason.", ["reason"], registry=r
        )
        self.turns = Counter(
            "samyu_turns", "Turns finished, by input and outcome.", ["input", "outcome"], registry=r
        )
        self.barge_ins = Counter(
            "samyu_barge_ins", "Answers interrupted by the caller.", registry=r
        )
        self.errors = Counter(
            "samyu_errors", "Error frames sent to clients, by code.", ["code"], registry=r
        )
        self.timing = Histogram(
            "samyu_turn_stage_seconds",
            "Turn timings by stage (as in turn_end.timings).",
            ["stage"],
            buckets=_BUCKETS_S,
            registry=r,
        )
        self.session_seconds = Histogram(
            "samyu_session_seconds",
            "Session lengths.",
            buckets=(1, 5, 15, 30, 60, 120, 300, 600, 900, 1800),
            registry=r,
        )
        self.ingest_jobs = Counter(
            "samyu_ingest_jobs", "Admin ingest jobs finished, by status.", ["status"], registry=r
        )
        for stage in STAGES:  # every series exists from the start (rate() needs a zero)
            self.timing.labels(stage=stage)

    def observe_timings(self, timings: dict[str, float]) -> None:
        for stage, ms in timings.items():
            if stage in STAGES and ms is not None and ms >= 0:
                self.timing.labels(stage=stage).observe(ms / 1000.0)

    def render(self) -> bytes:
        return generate_latest(self.registry)
