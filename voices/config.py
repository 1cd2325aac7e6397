"""Settings section `[voices]` (env `SAMYU_VOICES__*`): ASR, VAD and TTS engines."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field


class VoiceSettings(BaseModel):
    cache: Path = Field(
        default=Path("~/.cache/samyu").expanduser(),
        description="Set from SAMYU_CACHE by the root settings; assembled models live under it.",
    )
