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
    "tests.fixtures_fakes",
]

# Fixtures that load a real model or start a real server: a test that uses one (directly or
# through another fixture) is marked `slow`, so `pytest -m "not slow"` (make test-fast) runs
# only what the fakes in tests/fakes.py can drive, in seconds.
MODEL_FIXTURES = frozenset(
    {
        "transcriber",
        "piper",
        "demo_kb",
        "qwen_gguf",
        "embedding_server",
        "assistant_kb",
        "embedded_generator",
        "assistant",
        "llama_server",
        "serving_home",
        "serving_engines",
        "live_server",
        "talk_client",
        "admin_client",
    }
)


# Tests that load a real model (or run real ingest processes) without one of those fixtures.
# Listed here rather than marked in their files so that branches editing them merge cleanly;
# a test moved or renamed simply drops out of this list (then mark it in its file).
MODEL_TESTS = frozenset(
    {
        "test_sigkill_mid_ingest_leaves_previous_index_usable",  # a real embedder, 2 processes
        "test_queries_keep_working_while_another_thread_ingests",  # a real embedder
        "test_packaged_minilm_loads_offline",  # loads MiniLM
    }
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        uses_model = MODEL_FIXTURES & set(getattr(item, "fixturenames", ()))
        if uses_model or item.name.split("[")[0] in MODEL_TESTS:
            item.add_marker(pytest.mark.slow)


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
