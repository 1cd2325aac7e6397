"""Prometheus metrics of the voice server, in a registry per app (tests build many apps).

A finished turn has exactly one outcome (`TurnEnd.outcome`, or `cancelled`), counted in
`samyu_turns_total` and, when it is not the model's answer, the reason why in
`samyu_turn_failures_total`:
  model                the model answered from the sources
  extractive_fallback  the model's answer was replaced by quoted source sentences (ungrounded,
                       degenerate, wrong language...) while the model itself worked
  refused              the evidence gate redirected the caller (the model was not asked)
  timeout              the model did not answer in time; the caller got a quote or an apology
  error                the model or retrieval failed otherwise
  cancelled            the turn was stopped (a barge-in or a stop) before it ended
Every turn's stage timings are observed, failed ones included: a slow stage that ends in a
timeout is exactly what an operator needs to see.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from assistant.frames import TurnEnd

if TYPE_CHECKING:
    from serving.report import TurnJournal

Outcome = Literal["model", "extractive_fallback", "refused", "timeout", "error", "cancelled"]
OUTCOMES: tuple[Outcome, ...] = (
    "model",
    "extractive_fallback",
    "refused",
    "timeout",
    "error",
    "cancelled",
)
# Timing stages of a turn, as in the `turn_end` frame's `timings` (milliseconds there).
STAGES = (
    "asr",
    "rewrite",
    "retrieval",
    "first_token",
    "first_audio",
    "voice_to_voice",
    "total",
)
_BUCKETS_S = (0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 8.0, 13.0, 20.0, 30.0, 60.0)


def turn_outcome(event: TurnEnd) -> Outcome:
    """The one outcome of a finished turn: `TurnEnd.outcome` (assistant/frames.py, where it
    is computed), or `cancelled` when the turn was stopped before it ended."""
    return "cancelled" if event.cancelled else event.outcome


class Metrics:
    def __init__(self, journal: TurnJournal | None = None) -> None:
        self.journal = journal  # the operator report's store (serving/report.py), if any
        self.registry = CollectorRegistry()
        r = self.registry
        self.sessions_active = Gauge("samyu_sessions_active", "Open voice sessions.", registry=r)
        self.sessions = Counter("samyu_sessions", "Voice sessions accepted (started).", registry=r)
        self.sessions_refused = Counter(
            "samyu_sessions_refused", "Sockets refused, by reason.", ["reason"], registry=r
        )
        self.turns = Counter(
            "samyu_turns",
            "Turns finished, by input (voice/text) and outcome (model, extractive_fallback, "
            "refused, timeout, error, cancelled, interrupted).",
            ["input", "outcome"],
            registry=r,
        )
        self.turn_failures = Counter(
            "samyu_turn_failures",
            "Turns not answered by the model, by outcome and cause (a generator error code).",
            ["outcome", "cause"],
            registry=r,
        )
        self.barge_ins = Counter(
            "samyu_barge_ins", "Answers interrupted by the caller.", registry=r
        )
        self.playback_reports = Counter(
            "samyu_playback_reports",
            "Client `playback` progress reports received (widgets that report what was heard).",
            registry=r,
        )
        self.errors = Counter(
            "samyu_errors",
            "Errors, by code: error frames sent to clients, and model failures a turn survived "
            "by quoting the sources or apologising (model_timeout, model_<generator code>).",
            ["code"],
            registry=r,
        )
        self.timing = Histogram(
            "samyu_turn_stage_seconds",
            "Turn timings by stage (as in turn_end.timings), of every turn, failed ones too.",
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
        for outcome in ("timeout", "error", "extractive_fallback", "refused"):
            self.turn_failures.labels(outcome=outcome, cause="none")

    def record_turn(
        self,
        event: TurnEnd,
        *,
        input: str = "voice",
        collection: str = "",
        question: str = "",
        sources: Sequence[str] = (),
    ) -> Outcome:
        """Count one finished turn, observe its timings and journal it; returns its outcome."""
        outcome = turn_outcome(event)
        self.turns.labels(input=input, outcome=outcome).inc()
        cause = event.error or event.fallback
        if outcome not in ("model", "cancelled"):
            self.turn_failures.labels(outcome=outcome, cause=str(cause or "none")).inc()
        if outcome in ("timeout", "error"):
            self.errors.labels(code=f"model_{cause or outcome}").inc()
        timings = event.timings
        self.observe_timings(timings)
        if self.journal is not None:
            from serving.report import TurnRecord

            self.journal.record(
                TurnRecord(
                    collection=collection,
                    input=input,
                    language=str(event.language or "unknown"),
                    outcome=outcome,
                    question=question or event.query,
                    timings=timings,
                    sources=tuple(sources),
                    cause=str(cause) if cause else None,
                )
            )
        return outcome

    def observe_timings(self, timings: dict[str, float]) -> None:
        for stage, ms in timings.items():
            if stage in STAGES and ms is not None and ms >= 0:
                self.timing.labels(stage=stage).observe(ms / 1000.0)

    def render(self) -> bytes:
        return generate_latest(self.registry)
