from pathlib import Path

import pytest

from serving.settings import Settings


def test_env_paths_are_handed_down_to_each_section(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SAMYU_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("SAMYU_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("SAMYU_CONFIG", str(tmp_path / "absent.toml"))
    settings = Settings()
    assert settings.kb.home == tmp_path / "home"
    assert settings.voices.cache == tmp_path / "cache"
    assert settings.assistant.cache == tmp_path / "cache"
    assert settings.kb.model_cache == tmp_path / "cache"


def test_a_cache_given_in_configuration_reaches_the_knowledge_base(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SAMYU_CACHE", raising=False)
    monkeypatch.setenv("SAMYU_CONFIG", str(tmp_path / "absent.toml"))
    settings = Settings(cache=tmp_path / "models")
    assert settings.kb.model_cache == tmp_path / "models"  # EmbeddingGemma is assembled there


def test_toml_file_is_read_and_env_wins_over_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "samyu.toml"
    config.write_text('[server]\nport = 9001\nhost = "0.0.0.0"\n', encoding="utf-8")
    monkeypatch.setenv("SAMYU_CONFIG", str(config))
    monkeypatch.setenv("SAMYU_SERVER__PORT", "9002")
    settings = Settings()
    assert settings.server.host == "0.0.0.0"
    assert settings.server.port == 9002
