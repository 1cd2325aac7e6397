"""The operator's report from the turn journal: outcomes per language, p50/p95 per stage,
top refused questions (redacted), documents never retrieved."""

from __future__ import annotations

import time
from pathlib import Path

from serving.report import TurnJournal, TurnRecord, build_report


def _turn(question: str, outcome: str, language: str = "en", **fields: object) -> TurnRecord:
    return TurnRecord(
        collection=str(fields.get("collection", "demo")),
        input="text",
        language=language,
        outcome=outcome,
        question=question,
        timings=fields.get("timings", {"retrieval": 10.0}),  # type: ignore[arg-type]
        sources=tuple(fields.get("sources", ())),  # type: ignore[arg-type]
        ts=float(fields.get("ts", 0.0)),
    )


def test_report_of_the_last_hours(tmp_path: Path) -> None:
    journal = TurnJournal(tmp_path / "turns.sqlite3")
    now = time.time()
    journal.record(_turn("old question", "refused", ts=now - 3 * 3600))  # outside the window
    for _ in range(3):
        journal.record(_turn("Can I park on the pavement?", "refused"))
    journal.record(_turn("can i park on the PAVEMENT?", "refused"))
    journal.record(_turn("My HKID is A123456(7), call 9123 4567", "refused", "yue"))
    journal.record(_turn("Passport fee?", "model", sources=["en/passport-fees.md"]))
    journal.record(_turn("護照幾錢？", "timeout", "yue", timings={"retrieval": 30.0}))
    for ms in range(1, 101):
        journal.record(_turn("q", "model", timings={"first_audio": float(ms)}))
    report = build_report(
        journal,
        hours=2,
        documents={"demo": ["en/passport-fees.md", "en/etax.md"], "other": ["x.md"]},
        now=now + 1,
    )
    assert report["turns"] == 107
    assert report["outcomes"]["en"] == {"model": 101, "refused": 4}
    assert report["outcomes"]["yue"] == {"refused": 1, "timeout": 1}
    assert report["stages_ms"]["first_audio"] == {"count": 100, "p50": 50.0, "p95": 95.0}
    assert report["top_refused"][0] == {"question": "Can I park on the pavement?", "count": 4}
    redacted = report["top_refused"][1]["question"]
    assert "A123456" not in redacted and "9123" not in redacted and "[hkid]" in redacted
    assert [t["outcome"] for t in report["not_answered"]][:2] == ["timeout", "refused"]
    assert report["never_retrieved"] == {"demo": ["en/etax.md"], "other": ["x.md"]}
    only = build_report(journal, hours=2, collection="other", documents={"other": ["x.md"]})
    assert only["turns"] == 0 and only["never_retrieved"] == {"other": ["x.md"]}
