"""`samyu kb ...` commands: ingest, list, delete, query, eval, tune, settings."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from knowledge_base.config import KnowledgeBaseSettings

_STATUS_STYLE = {
    "added": "green",
    "updated": "cyan",
    "unchanged": "dim",
    "failed": "bold red",
    "removed": "yellow",
}


def register(app: typer.Typer, settings: Callable[[], KnowledgeBaseSettings]) -> None:
    kb = typer.Typer(help="Load, query and evaluate document collections.", no_args_is_help=True)
    app.add_typer(kb, name="kb")
    console = Console()
    errors = Console(stderr=True)

    def open_collection(name: str):
        from knowledge_base.collection import CollectionError, KnowledgeBase

        try:
            return KnowledgeBase(settings()).collection(name)
        except CollectionError as exc:
            errors.print(f"[red]{exc}[/red]")
            raise typer.Exit(2) from exc

    @kb.command()
    def ingest(
        paths: Annotated[list[Path], typer.Argument(help="Files or folders to load.")],
        collection: str = typer.Option(..., "--collection", "-c", help="Collection name."),
        sync: bool = typer.Option(False, help="Remove documents whose files are not given."),
        as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
    ) -> None:
        """Load files or folders; prints a per-file report (added/updated/unchanged/failed)."""
        target = open_collection(collection)
        missing = [str(p) for p in paths if not p.exists()]
        if missing:
            errors.print(f"[red]not found: {', '.join(missing)}[/red]")
            raise typer.Exit(2)
        with Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]}"),
            TimeElapsedColumn(),
            TextColumn("left"),
            TimeRemainingColumn(),
            TextColumn("{task.fields[current]}"),
            console=errors,
            disable=as_json,
            transient=False,
        ) as bar:
            task = bar.add_task("ingest", total=None, current="", rate="")
            started = time.monotonic()

            def progress(done: int, total: int, current: str) -> None:
                elapsed = time.monotonic() - started
                rate = f"{done / elapsed:.1f} files/s" if done and elapsed > 0 else ""
                bar.update(task, completed=done, total=total, current=current, rate=rate)
                if not errors.is_terminal and current:  # logs get one line per file instead
                    errors.print(f"ingest {done + 1}/{total} {current}", highlight=False)

            report = target.ingest(paths, sync=sync, progress=progress)
        if as_json:
            typer.echo(json.dumps(asdict(report), ensure_ascii=False, indent=2))
        else:
            table = Table("file", "status", "docs", "chunks", "reason / note")
            for f in report.files:
                style = _STATUS_STYLE[f.status]
                table.add_row(
                    f.path,
                    f"[{style}]{f.status}[/{style}]",
                    str(f.documents),
                    str(f.chunks),
                    f.reason or "",
                )
            console.print(table)
            counts = ", ".join(
                f"{report.count(s)} {s}"
                for s in _STATUS_STYLE
                if report.count(s)  # type: ignore[arg-type]
            )
            console.print(
                f"{collection}: {counts}; {report.chunks_embedded} chunks embedded in "
                f"{report.seconds:.1f} s; live version {report.version}"
            )
        raise typer.Exit(0 if report.ok else 1)

    @kb.command("list")
    def list_(
        collection: str | None = typer.Option(None, "--collection", "-c", help="Its documents."),
        as_json: bool = typer.Option(False, "--json"),
    ) -> None:
        """List collections, or the documents of one collection."""
        from knowledge_base.collection import KnowledgeBase

        if collection is None:
            names = KnowledgeBase(settings()).collections()
            typer.echo(json.dumps(names) if as_json else "\n".join(names))
            return
        documents = open_collection(collection).documents()
        if as_json:
            typer.echo(json.dumps([asdict(d) for d in documents], ensure_ascii=False, indent=2))
            return
        table = Table("id", "title", "chunks", "url")
        for d in documents:
            table.add_row(d.id, d.title, str(d.chunks), d.url or "")
        console.print(table)

    @kb.command()
    def delete(
        doc_id: str = typer.Argument(..., help="Document id, as `kb list` shows it."),
        collection: str = typer.Option(..., "--collection", "-c"),
    ) -> None:
        """Remove one document from a collection."""
        from knowledge_base.collection import CollectionError

        try:
            open_collection(collection).delete(doc_id)
        except CollectionError as exc:
            errors.print(f"[red]{exc}[/red]")
            raise typer.Exit(1) from exc
        console.print(f"deleted {doc_id} from {collection}")

    @kb.command()
    def query(
        text: str = typer.Argument(..., help="The question."),
        collection: str = typer.Option(..., "--collection", "-c"),
        k: int | None = typer.Option(None, "--k", help="Hits (default: the collection's)."),
        explain: bool = typer.Option(False, help="Show dense, BM25 and fused scores and ranks."),
        as_json: bool = typer.Option(False, "--json"),
    ) -> None:
        """Retrieve the best chunks for a question."""
        from knowledge_base.types import QueryOptions

        hits = open_collection(collection).retriever().retrieve(text, QueryOptions(k=k))
        if as_json:
            typer.echo(json.dumps([asdict(h) for h in hits], ensure_ascii=False, indent=2))
            return
        table = Table(
            "#", "document", "fused", *(("dense", "d.rank", "bm25", "b.rank") if explain else ())
        )
        for rank, hit in enumerate(hits, start=1):
            scores = (
                (
                    _num(hit.dense_score),
                    _num(hit.dense_rank),
                    _num(hit.bm25_score),
                    _num(hit.bm25_rank),
                )
                if explain
                else ()
            )
            table.add_row(str(rank), hit.chunk.doc_id, f"{hit.score:.3f}", *scores)
        console.print(table)
        for rank, hit in enumerate(hits, start=1):  # the text below the table: it wraps freely
            where = f" [{hit.chunk.section}]" if hit.chunk.section else ""
            snippet = " ".join(hit.chunk.text.split())[:200]
            console.print(f"{rank}.{where} {snippet}", highlight=False)

    @kb.command("eval")
    def eval_(
        questions: Annotated[
            Path, typer.Argument(help="JSONL: {query, relevant: [doc id], language}.")
        ],
        collection: str = typer.Option(..., "--collection", "-c"),
        as_json: bool = typer.Option(False, "--json"),
        misses: bool = typer.Option(False, help="List questions not answered in the top 5."),
    ) -> None:
        """recall@1/5/10, MRR and nDCG@10, overall and per language."""
        from knowledge_base.evaluation import evaluate_collection, load_questions

        report = evaluate_collection(open_collection(collection), load_questions(questions))
        if as_json:
            typer.echo(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
            return
        table = Table(
            "language",
            "n",
            "recall@1",
            "recall@5",
            "recall@10",
            "MRR",
            "nDCG@10",
            "hit@1",
            "hit@5",
        )
        rows = [*sorted(report.by_language.items()), ("all", report.overall)]
        for lang, m in rows:
            figures = (m.recall[1], m.recall[5], m.recall[10], m.mrr, m.ndcg, m.hit[1], m.hit[5])
            table.add_row(lang, str(m.count), *(f"{v:.3f}" for v in figures))
        console.print(table)
        if misses:
            for miss in report.misses(5):
                console.print(
                    f"[red]miss[/red] [{miss.question.language}] {miss.question.query}"
                    f" -> want {sorted(miss.question.relevant)}, got {miss.ranked_docs[:5]}"
                )

    @kb.command()
    def tune(
        questions: Annotated[Path, typer.Argument(help="JSONL question file, as for `kb eval`.")],
        collection: str = typer.Option(..., "--collection", "-c"),
        save: bool = typer.Option(False, help="Store the best setting on the collection."),
        top: int = typer.Option(10, help="Rows of the table to print."),
    ) -> None:
        """Grid over fusion weights, RRF constant and chunk size; prints the table and the best."""
        from knowledge_base.evaluation import load_questions
        from knowledge_base.tune import tune as run_tune

        target = open_collection(collection)
        with Progress(TextColumn("tune"), BarColumn(), MofNCompleteColumn(), console=errors) as bar:
            task = bar.add_task("tune", total=None)
            trials = run_tune(
                target,
                load_questions(questions),
                progress=lambda d, t: bar.update(task, completed=d, total=t),
            )
        languages = sorted(trials[0].report.by_language) if trials else []
        table = Table(
            "chunk",
            "dense w",
            "bm25 w",
            "c",
            *(f"r@5 {lang}" for lang in languages),
            "r@5",
            "MRR",
            "nDCG@10",
        )
        for trial in trials[:top]:
            s, m = trial.settings, trial.report.overall
            table.add_row(
                str(s["chunk_size"]),
                str(s["dense_weight"]),
                str(s["bm25_weight"]),
                str(s["rrf_c"]),
                *(f"{trial.report.by_language[lang].recall[5]:.3f}" for lang in languages),
                f"{m.recall[5]:.3f}",
                f"{m.mrr:.3f}",
                f"{m.ndcg:.3f}",
            )
        console.print(table)
        best = trials[0]
        console.print(f"best: {json.dumps(best.settings)}")
        if save:
            target.update_settings(**best.settings)
            console.print(f"saved to collection {collection}")

    @kb.command("settings")
    def settings_(
        collection: str = typer.Option(..., "--collection", "-c"),
        set_: Annotated[
            list[str] | None, typer.Option("--set", help="FIELD=VALUE (JSON), repeatable.")
        ] = None,
    ) -> None:
        """Show a collection's stored retrieval settings, or change them (rebuilds if needed)."""
        from pydantic import ValidationError

        target = open_collection(collection)
        changes: dict[str, object] = {}
        for item in set_ or []:
            name, _, raw = item.partition("=")
            try:
                changes[name.strip()] = json.loads(raw)
            except json.JSONDecodeError:
                changes[name.strip()] = raw
        try:
            current = target.update_settings(**changes) if changes else target.settings
        except ValidationError as exc:
            errors.print(f"[red]{exc}[/red]")
            raise typer.Exit(2) from exc
        typer.echo(current.model_dump_json(indent=2))


def _num(value: float | int | None) -> str:
    if value is None:
        return "-"
    return str(value) if isinstance(value, int) else f"{value:.3f}"


def prepare_models(settings: KnowledgeBaseSettings) -> list[str]:
    """Verify this package's embedded models; one line per model for the CLI."""
    from knowledge_base.embedders import EmbeddingError
    from knowledge_base.embedders.local import resolve_model_dir
    from knowledge_base.embedders.use_multilingual import verify_files

    lines = []
    try:
        lines.append(f"kb embedder use-multilingual: sha256 ok ({verify_files()[0].parent})")
    except EmbeddingError as exc:
        lines.append(f"kb embedder use-multilingual: FAILED {exc}")
    try:
        lines.append(f"kb embedder local: {resolve_model_dir(settings)}")
    except EmbeddingError as exc:
        lines.append(f"kb embedder local: FAILED {exc}")
    return lines
