"""`samyu ask`."""

from __future__ import annotations

from collections.abc import Callable

import typer

from assistant.config import AssistantSettings
from knowledge_base.config import KnowledgeBaseSettings
from voices.config import VoiceSettings


def register(
    app: typer.Typer,
    *,
    kb: Callable[[], KnowledgeBaseSettings],
    voices: Callable[[], VoiceSettings],
    assistant: Callable[[], AssistantSettings],
) -> None:
    pass


def prepare_models(settings: AssistantSettings) -> list[str]:
    """Assemble and verify this package's embedded models; one line per model for the CLI."""
    return []
