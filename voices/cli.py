"""`samyu transcribe` and `samyu speak`."""

from __future__ import annotations

from collections.abc import Callable

import typer

from voices.config import VoiceSettings


def register(app: typer.Typer, settings: Callable[[], VoiceSettings]) -> None:
    pass


def prepare_models(settings: VoiceSettings) -> list[str]:
    """Assemble and verify this package's embedded models; one line per model for the CLI."""
    return []
