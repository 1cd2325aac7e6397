"""The operator's report of the last N hours: what callers asked and how each turn ended.

Every finished turn is appended to a small SQLite journal under SAMYU_HOME
(`report/turns.sqlite3`): time, collection, input (voice/text), language, outcome (see
serving/metrics.py), the question redacted with serving/redaction.py (HKID, phone numbers,
emails never stored), stage timings, and the ids of the documents retrieved. Rows older
than `server.report_keep_days` are deleted as new ones arrive.

`build_report` answers: outcomes per language, p50/p95 per stage, the most-refused questions,
the turns that were not the model's answer (with their redacted questions), and the documents
never retrieved over the window. `samyu report`, `GET /admin/report` and the operator
console (/console.html) all show this one object.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from serving.redaction import redact

log = logging.getLogger("samyu.report")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS turns (
    ts REAL NOT NULL,
    collection TEXT NOT NULL,
    input TEXT NOT NULL,
    language TEXT NOT NULL,
    outcome TEXT NOT NULL,
    cause TEXT,
    question TEXT NOT NULL,
    timings TEXT NOT NULL,
    sources TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS turns_ts ON turns (ts);
"""
NOT_ANSWERED = ("refused", "extractive_fallback", "timeout", "error")


@dataclass(frozen=True)
class TurnRecord:
    collection: str
    input: str
    language: str
    outcome: str
    question: str
    timings: Mapping[str, float]
    sources: tuple[str, ...] = ()
    cause: str | None = None
    ts: float = 0.0  # 0 = now


class TurnJournal:
    """Append-only turn log in one SQLite file; safe from any thread of one process."""

    def __init__(self, path: Path, *, keep_days: float = 30.0, max_question_chars: int = 500):
        self.path = path
        self.keep_s = keep_days * 86400
        self.max_question_chars = max_question_chars
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self._last_prune = 0.0

    def record(self, turn: TurnRecord) -> None:
        """Store one turn (redacted). Never raises: a full disk must not fail a caller's turn."""
        now = turn.ts or time.time()
        question = redact(" ".join(turn.question.split()))[: self.max_question_chars]
        row = (
            now,
            turn.collection,
            turn.input,
            turn.language,
            turn.outcome,
            turn.cause,
            question,
            json.dumps({k: v for k, v in turn.timings.items() if v is not None}),
            json.dumps(list(turn.sources)),
        )
        try:
            with self._lock:
                self._db.execute("INSERT INTO turns VALUES (?,?,?,?,?,?,?,?,?)", row)
                if now - self._last_prune > 3600:
                    self._db.execute("DELETE FROM turns WHERE ts < ?", (now - self.keep_s,))
                    self._last_prune = now
        except sqlite3.Error:
            log.exception("could not record a turn in %s", self.path)

    def turns(self, since: float, collection: str | None = None) -> list[dict[str, Any]]:
        query = "SELECT * FROM turns WHERE ts >= ?"
        args: list[Any] = [since]
        if collection:
            query += " AND collection = ?"
            args.append(collection)
        with self._lock:
            cursor = self._db.execute(query + " ORDER BY ts", args)
            names = [d[0] for d in cursor.description]
            rows = [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]
        for row in rows:
            row["timings"] = json.loads(row["timings"])
            row["sources"] = json.loads(row["sources"])
        return rows

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))
    return ordered[int(rank) - 1]


def build_report(
    journal: TurnJournal,
    *,
    hours: float = 24.0,
    collection: str | None = None,
    documents: Mapping[str, Iterable[str]] | None = None,
    top: int = 10,
    now: float | None = None,
) -> dict[str, Any]:
    """The report of the last `hours`; `documents`: {collection: doc ids} for never-retrieved."""
    now = now or time.time()
    turns = journal.turns(now - hours * 3600, collection)
    outcomes: dict[str, Counter[str]] = defaultdict(Counter)
    stages: dict[str, list[float]] = defaultdict(list)
    refused: dict[str, Counter[str]] = defaultdict(Counter)
    retrieved: dict[str, set[str]] = defaultdict(set)
    for turn in turns:
        outcomes[turn["language"]][turn["outcome"]] += 1
        outcomes["all"][turn["outcome"]] += 1
        for stage, ms in turn["timings"].items():
            if isinstance(ms, int | float) and ms >= 0:
                stages[stage].append(float(ms))
        if turn["outcome"] == "refused" and turn["question"]:
            refused[turn["question"].casefold()][turn["question"]] += 1
        retrieved[turn["collection"]].update(turn["sources"])
    top_refused = sorted(
        (
            {"question": forms.most_common(1)[0][0], "count": sum(forms.values())}
            for forms in refused.values()
        ),
        key=lambda r: (-r["count"], r["question"]),
    )[:top]
    not_answered = [
        {
            "ts": round(t["ts"], 3),
            "collection": t["collection"],
            "language": t["language"],
            "input": t["input"],
            "outcome": t["outcome"],
            "cause": t["cause"],
            "question": t["question"],
        }
        for t in reversed(turns)
        if t["outcome"] in NOT_ANSWERED
    ][: top * 5]
    never = {
        name: sorted(set(ids) - retrieved.get(name, set()))
        for name, ids in (documents or {}).items()
        if collection is None or name == collection
    }
    return {
        "hours": hours,
        "since": round(now - hours * 3600, 3),
        "collection": collection,
        "turns": len(turns),
        "outcomes": {lang: dict(sorted(c.items())) for lang, c in sorted(outcomes.items())},
        "stages_ms": {
            stage: {
                "count": len(values),
                "p50": round(_percentile(values, 50), 1),
                "p95": round(_percentile(values, 95), 1),
            }
            for stage, values in sorted(stages.items())
        },
        "top_refused": top_refused,
        "not_answered": not_answered,
        "never_retrieved": never,
    }


def journal_path(home: Path) -> Path:
    return home / "report" / "turns.sqlite3"


def open_journal(settings: Any) -> TurnJournal | None:
    """The journal of a server's Settings, or None when `server.turn_journal` is off."""
    if not settings.server.turn_journal:
        return None
    return TurnJournal(
        journal_path(settings.home), keep_days=settings.server.turn_journal_keep_days
    )
