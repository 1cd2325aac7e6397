"""The one settings object: env vars (SAMYU_*, nested with `__`) over an optional TOML file.

Each package owns its section's model; this root composes them and hands SAMYU_HOME and
SAMYU_CACHE down so that knowledge_base and voices never import anything above them.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from assistant.config import AssistantSettings
from assistant.stages.acknowledgement import DEFAULT_ACKNOWLEDGEMENTS
from knowledge_base.config import KnowledgeBaseSettings
from serving.meeting_settings import MeetingSettings
from voices.config import VoiceSettings


def _config_file() -> Path:
    return Path(os.environ.get("SAMYU_CONFIG", "samyu.toml"))


class AdminToken(BaseModel):
    """One bearer token of the admin API; `collections` None = every collection."""

    token: SecretStr = Field(description="The bearer token (send `Authorization: Bearer ...`).")
    name: str = Field(default="admin", description="Who holds it (shown in logs, never the token).")
    collections: list[str] | None = Field(
        default=None, description="Collections this token may touch; None = all of them."
    )


class ServerSettings(BaseModel):
    """Section `[server]` (env `SAMYU_SERVER__*`): the socket, its limits, admin, privacy."""

    host: str = Field(default="127.0.0.1", description="Bind address.")
    port: int = Field(default=8000, ge=1, le=65535, description="Port.")

    # ---- /ws/talk limits (every one is announced to the client in the `ready` frame) ----
    max_sessions: int = Field(
        default=8, ge=1, description="Concurrent voice sessions; beyond it: `busy` and close 1013."
    )
    max_message_bytes: int = Field(
        default=64 * 1024,
        ge=1024,
        description="Largest frame (binary audio or JSON text); larger: close 1009.",
    )
    max_text_chars: int = Field(
        default=1000, ge=1, description="Longest typed question (`text` frame) in characters."
    )
    max_utterance_s: float = Field(
        default=30.0,
        gt=0,
        description="Longest utterance; at it the server ends the utterance itself.",
    )
    max_session_s: float = Field(
        default=15 * 60.0, gt=0, description="Longest session; then `session_expired` and close."
    )
    idle_timeout_s: float = Field(
        default=120.0,
        gt=0,
        description="Close a session with no speech, no typed question and no answer in "
        "progress for this long (silent audio or stray frames do not keep a line).",
    )
    start_timeout_s: float = Field(
        default=3.0, gt=0, description="Time a new socket has to send its `start` frame."
    )
    max_sessions_per_ip: int = Field(
        default=4,
        ge=1,
        description="Concurrent voice sessions (and sockets awaiting `start`) from one client "
        "address; beyond it: `too_many_sessions` and close 1013. Behind a reverse proxy, run "
        "uvicorn with --proxy-headers so the address is the caller's, not the proxy's.",
    )
    connects_per_minute_per_ip: float = Field(
        default=30.0,
        gt=0,
        description="New /ws/talk connections one client address may open per minute (a "
        "burst of as many is allowed); beyond it: `connect_rate_limited` and close 1013.",
    )
    turns_per_minute: int = Field(
        default=12, ge=1, description="Turns (spoken or typed) one session may start per minute."
    )
    max_messages_per_s: float = Field(
        default=100.0,
        gt=0,
        description="Flood guard: sustained frames per second (token bucket; 20 ms frames = 50/s).",
    )
    message_burst: int = Field(
        default=200, ge=1, description="Flood guard: frames allowed in a burst above the rate."
    )
    max_protocol_errors: int = Field(
        default=5,
        ge=1,
        description="Recoverable protocol errors tolerated before the server closes.",
    )
    allowed_origins: list[str] = Field(
        default_factory=list,
        description="Browser Origins allowed on /ws/talk, exact (e.g. "
        '["https://www.dept.gov.hk"]). Empty (the default): same origin only, the page '
        "must come from this server. '*' = any site (never in production: any page could "
        "open a session on a citizen's behalf). Sockets without an Origin header (non-browser "
        "clients) are always allowed.",
    )
    cors_origins: list[str] = Field(
        default_factory=list,
        description="Origins allowed by CORS on the HTTP API (/admin): empty (the default) = "
        "no CORS headers, so only same-origin pages and non-browser clients use it.",
    )
    input_sample_rates: list[int] = Field(
        default_factory=lambda: [8000, 16000, 22050, 24000, 44100, 48000],
        description="PCM16 input rates a client may declare in `start` (resampled to 16 kHz).",
    )
    output_frame_bytes: int = Field(
        default=8192, ge=512, description="Binary audio frames sent to clients are cut to this."
    )

    # ---- the voice session -----------------------------------------------------------
    barge_in: bool = Field(
        default=True, description="Caller speech during an answer interrupts it."
    )
    barge_in_guard_ms: float = Field(
        default=300.0,
        ge=0,
        description="Echo guard: speech starting within this long after the answer's audio "
        "starts does not interrupt (the widget also asks the browser for echo cancellation).",
    )
    barge_in_on: Literal["words", "speech"] = Field(
        default="words",
        description="What interrupts an answer: 'words' = the first transcript of the caller's "
        "speech that is not an acknowledgement (see `acknowledgements`), or "
        "`barge_in_min_speech_ms` of speech; 'speech' = the speech onset itself (faster, but "
        "'mm' stops the answer too).",
    )
    barge_in_min_speech_ms: float = Field(
        default=600.0,
        ge=0,
        description="With barge_in_on='words': this much speech over an answer interrupts it "
        "without waiting for its words (acknowledgements are shorter).",
    )
    acknowledgements: list[str] = Field(
        default_factory=lambda: list(DEFAULT_ACKNOWLEDGEMENTS),
        description="Words that, said alone while an answer plays, do not interrupt it "
        "(嗯, 係, ok, 好, ...).",
    )

    # ---- admin API -------------------------------------------------------------------
    admin_tokens: list[AdminToken] = Field(
        default_factory=list,
        description="Admin bearer tokens; empty = the admin API answers 401 to everyone.",
    )
    max_upload_bytes: int = Field(
        default=20 * 1024 * 1024,
        ge=1,
        description="Largest upload (all files of one request): 413.",
    )
    max_jobs_kept: int = Field(
        default=100, ge=1, description="Finished ingest jobs remembered for status polling."
    )
    job_retention_s: float = Field(
        default=7 * 24 * 3600.0,
        gt=0,
        description="Finished job records older than this are deleted from SAMYU_HOME/jobs.",
    )
    upload_retention_s: float = Field(
        default=24 * 3600.0,
        gt=0,
        description="Spooled upload folders that no job owns (a crash before the job was "
        "recorded) are deleted at start-up once older than this.",
    )

    # ---- start-up --------------------------------------------------------------------
    seed_collections: dict[str, Path] = Field(
        default_factory=lambda: {
            "demo": Path(__file__).resolve().parent.parent / "knowledge_base" / "demo_corpus"
        },
        description="Collections ingested at start-up when missing or empty (name -> folder).",
    )
    load_models: bool = Field(
        default=True,
        description="Load ASR, VAD, LLM and TTS at start-up (False: admin API and KB only).",
    )

    # ---- privacy ---------------------------------------------------------------------
    store_audio: bool = Field(
        default=False,
        description="Keep each utterance's audio as a wav (off: audio is never stored).",
    )
    audio_dir: Path | None = Field(
        default=None, description="Where stored utterances go (required when store_audio is on)."
    )
    redact_logs: bool = Field(
        default=True, description="Redact HKID numbers, HK phone numbers and emails in logs."
    )

    # ---- operator report (serving/report.py) -------------------------------------------
    turn_journal: bool = Field(
        default=True,
        description="Journal each turn (redacted question, outcome, timings, documents "
        "retrieved) in SAMYU_HOME/report/turns.sqlite3 for `samyu report` and the console.",
    )
    turn_journal_keep_days: float = Field(
        default=30.0, gt=0, description="Journal rows older than this are deleted."
    )
    report_hours: float = Field(
        default=24.0, gt=0, description="Default window of `samyu report` and /admin/report."
    )

    @model_validator(mode="after")
    def _audio_dir_when_storing(self) -> ServerSettings:
        if self.store_audio and self.audio_dir is None:
            raise ValueError("server.store_audio needs server.audio_dir")
        return self


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
    meetings: MeetingSettings = Field(default_factory=MeetingSettings)

    @model_validator(mode="after")
    def _hand_down_paths(self) -> Settings:
        self.home = self.home.expanduser()
        self.cache = self.cache.expanduser()
        self.kb.home = self.home
        self.kb.model_cache = self.cache
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
