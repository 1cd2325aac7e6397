"""Settings of meeting minutes (section `[meetings.minutes]`, env
`SAMYU_MEETINGS__MINUTES__*`); assistant.minutes uses them."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class MinutesSettings(BaseModel):
    engine: Literal["auto", "llm", "extractive"] = Field(
        default="auto",
        description="auto: the model when there is one, else extractive; a "
        "model error or timeout falls back to extractive.",
    )
    map_chars: int = Field(
        default=2500,
        ge=300,
        description="Transcript characters per map call (fits the "
        "model's context with the prompt).",
    )
    max_tokens: int = Field(default=400, ge=32, description="Tokens one map/reduce call writes.")
    timeout_s: float = Field(
        default=300.0,
        gt=0,
        description="Whole-minutes budget for the model; past it the "
        "extractive minutes are returned.",
    )
    max_summary_items: int = Field(default=6, ge=1, description="Summary sentences kept.")
    max_items: int = Field(default=30, ge=1, description="Items kept per list.")
