"""The one settings object: env vars (SAMYU_*, nested with `__`) over an optional TOML file.

Each package owns its section's model; this root composes them and hands SAMYU_HOME and
SAMYU_CACHE down so that knowledge_base and voices never import anything above them.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, Field, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from assistant.config import AssistantSettings
from knowledge_base.config import KnowledgeBaseSettings
from voices.config import VoiceSettings


def _config_file() -> Path:
    return Path(os.environ.get("SAMYU_CONFIG", "samyu.toml"))


class ServerSettings(BaseModel):
    host: str = "127.0.0.1"
    port: int = 8000


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="SAMYU_", env_nested_delimiter="__", extra="ignore"
    )

    home: Path = Field(
        default=Path("~/.local/share/samyu").expanduser(),
        description="SAMYU_HOME: collections and indexes.",
    )
    cache: Path = Field(
        default=Path("~/.cache/samyu").expanduser(),
        description="SAMYU_CACHE: models assembled from packages.",
    )
    kb: KnowledgeBaseSettings = Field(default_factory=KnowledgeBaseSettings)
    voices: VoiceSettings = Field(default_factory=VoiceSettings)
    assistant: AssistantSettings = Field(default_factory=AssistantSettings)
    server: ServerSettings = Field(default_factory=ServerSettings)

    @model_validator(mode="after")
    def _hand_down_paths(self) -> Settings:
        self.home = self.home.expanduser()
        self.cache = self.cache.expanduser()
        self.kb.home = self.home
        self.voices.cache = self.cache
        self.assistant.cache = self.cache
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml = TomlConfigSettingsSource(settings_cls, toml_file=_config_file())
        return (init_settings, env_settings, toml, file_secret_settings)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
