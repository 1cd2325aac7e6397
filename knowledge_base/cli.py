"""`samyu kb ...` commands."""

from __future__ import annotations

from collections.abc import Callable

import typer

from knowledge_base.config import KnowledgeBaseSettings


def register(app: typer.Typer, settings: Callable[[], KnowledgeBaseSettings]) -> None:
    kb = typer.Typer(help="Load, query and evaluate document collections.", no_args_is_help=True)
    app.add_typer(kb, name="kb")


def prepare_models(settings: KnowledgeBaseSettings) -> list[str]:
    """Assemble and verify this package's embedded models; one line per model for the CLI."""
    return []
