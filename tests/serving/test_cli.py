"""`samyu report`: the operator's report from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from serving.cli import app
from serving.report import TurnJournal, TurnRecord, journal_path
from serving.settings import get_settings


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("SAMYU_HOME", str(tmp_path))
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def test_report_without_a_journal_says_so(home: Path) -> None:
    result = CliRunner().invoke(app, ["report"])
    assert result.exit_code == 1 and "no turn journal" in result.output


def test_report_as_json_and_as_tables(home: Path) -> None:
    journal = TurnJournal(journal_path(home))
    for outcome in ("refused", "refused", "model"):
        journal.record(
            TurnRecord(
                "demo", "voice", "yue", outcome, "點樣泊車？", {"asr": 300.0, "total": 900.0}
            )
        )
    journal.close()
    result = CliRunner().invoke(app, ["report", "--hours", "1", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["outcomes"]["yue"] == {"model": 1, "refused": 2}
    assert report["top_refused"] == [{"question": "點樣泊車？", "count": 2}]
    table = CliRunner().invoke(app, ["report", "--hours", "1"])
    assert table.exit_code == 0 and "most refused" in table.stdout and "點樣泊車？" in table.stdout
