"""Settings section `[kb]` (env `SAMYU_KB__*`): embedders, chunking, limits, default retrieval."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field


class KnowledgeBaseSettings(BaseModel):
    home: Path = Field(
        default=Path("~/.local/share/samyu").expanduser(),
        description="Set from SAMYU_HOME by the root settings; collections live under it.",
    )
    max_file_bytes: int = Field(default=20 * 1024 * 1024, description="Largest file ingest accepts.")
