"""Settings section `[assistant]` (env `SAMYU_ASSISTANT__*`): generator engine, prompt, gate."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field


class AssistantSettings(BaseModel):
    cache: Path = Field(
        default=Path("~/.cache/samyu").expanduser(),
        description="Set from SAMYU_CACHE by the root settings; assembled models live under it.",
    )
