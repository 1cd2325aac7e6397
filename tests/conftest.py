"""Session-wide fixtures. Each package's model fixtures live in its own plugin module
(tests/fixtures_<package>.py) so that every model is loaded once per test session."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest_plugins = [
    "tests.fixtures_knowledge_base",
    "tests.fixtures_voices",
    "tests.fixtures_assistant",
    "tests.fixtures_serving",
]

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SHARED_AUDIO = PROJECT_ROOT.parent / "shared" / "fixtures" / "audio"


@pytest.fixture(scope="session")
def shared_audio() -> Path:
    """Real human speech clips beside the checkout (../shared/fixtures/audio)."""
    if not (SHARED_AUDIO / "transcripts.json").exists():
        pytest.skip(f"real speech fixtures not found at {SHARED_AUDIO}")
    return SHARED_AUDIO


@pytest.fixture(scope="session")
def shared_transcripts(shared_audio: Path) -> dict[str, dict]:
    entries = json.loads((shared_audio / "transcripts.json").read_text(encoding="utf-8"))
    return {entry["file"]: entry for entry in entries}


@pytest.fixture
def samyu_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh SAMYU_HOME per test; the model cache (SAMYU_CACHE) stays shared."""
    home = tmp_path / "samyu-home"
    monkeypatch.setenv("SAMYU_HOME", str(home))
    return home
