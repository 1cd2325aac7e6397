"""`samyu ask`: one turn from the command line, typed (--text) or spoken (--audio)."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from assistant.config import AssistantSettings
from assistant.models import embedded_model_path
from assistant.types import (
    AnswerDelta,
    AudioData,
    AudioStart,
    GeneratorError,
    Source,
    SourcesFound,
    SpokenLanguage,
    TurnEnd,
    TurnError,
    TurnEvent,
)
from knowledge_base.config import KnowledgeBaseSettings
from voices.config import VoiceSettings

_LANGUAGES = ("yue", "cmn", "en")


@dataclasses.dataclass
class _Outcome:
    transcript: str
    language: SpokenLanguage | None = None
    answer: str = ""
    refused: bool = False
    sources: list[Source] = dataclasses.field(default_factory=list)
    timings: dict[str, float] = dataclasses.field(default_factory=dict)
    query: str = ""
    fallback: str | None = None
    error: TurnError | None = None
    sample_rate: int = 0
    pcm: bytearray = dataclasses.field(default_factory=bytearray)

    def take(self, event: TurnEvent, *, echo: bool) -> None:
        if isinstance(event, SourcesFound):
            self.sources = event.sources
        elif isinstance(event, AnswerDelta) and echo:
            typer.echo(event.delta, nl=False)
        elif isinstance(event, AudioStart):
            self.sample_rate = event.sample_rate
        elif isinstance(event, AudioData):
            self.pcm += event.pcm
        elif isinstance(event, TurnEnd):
            self.answer, self.refused, self.language = event.answer, event.refused, event.language
            self.timings, self.query, self.fallback = event.timings, event.query, event.fallback
        elif isinstance(event, TurnError):
            self.error = event

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "transcript": self.transcript,
            "language": self.language,
            "answer": self.answer,
            "refused": self.refused,
            "sources": [dataclasses.asdict(s) for s in self.sources],
            "timings": self.timings,
            "query": self.query,
            "fallback": self.fallback,
        }
        if self.error is not None:
            out["error"] = {"code": self.error.code, "message": self.error.message}
        return out


def _language(value: str) -> SpokenLanguage | None:
    if value == "auto":
        return None
    if value not in _LANGUAGES:
        raise typer.BadParameter(f"--lang must be auto, yue, cmn or en, not {value!r}")
    return value  # type: ignore[return-value]


async def _run_turn(
    question: str | None,
    audio: Path | None,
    *,
    collection: str,
    language: SpokenLanguage | None,
    speak_answer: bool,
    echo: bool,
    kb: KnowledgeBaseSettings,
    voices: VoiceSettings,
    settings: AssistantSettings,
) -> _Outcome:
    from assistant.turn import Assistant
    from knowledge_base import KnowledgeBase

    asr_ms: float | None = None
    if audio is not None:
        from voices.asr.faster_whisper import FasterWhisperTranscriber
        from voices.files import transcribe_file

        transcriber = FasterWhisperTranscriber.from_settings(voices)
        started = time.perf_counter()
        transcript = await asyncio.to_thread(
            transcribe_file, audio, transcriber, files=voices.files, vad=voices.vad,
            language=language,
        )  # fmt: skip
        asr_ms = round((time.perf_counter() - started) * 1000, 1)
        question, language = transcript.text, transcript.language
    assert question is not None
    voice_for = None
    if speak_answer:
        from voices.tts.registry import VoiceRegistry

        voice_for = VoiceRegistry(voices.tts).voice
    assistant = Assistant.from_settings(settings, KnowledgeBase(kb), voice_for=voice_for)
    outcome = _Outcome(transcript=question, language=language)
    turn = assistant.answer_spoken if speak_answer else assistant.answer
    try:
        async for event in turn(question, language=language, collection=collection):
            outcome.take(event, echo=echo)
    finally:
        await assistant.aclose()
    if asr_ms is not None:
        outcome.timings = {"asr": asr_ms, **outcome.timings}
    return outcome


def _write_wav(path: Path, outcome: _Outcome) -> None:
    import numpy as np
    import soundfile

    samples = np.frombuffer(bytes(outcome.pcm), dtype="<i2")
    soundfile.write(path, samples, outcome.sample_rate, subtype="PCM_16")


def register(
    app: typer.Typer,
    *,
    kb: Callable[[], KnowledgeBaseSettings],
    voices: Callable[[], VoiceSettings],
    assistant: Callable[[], AssistantSettings],
) -> None:
    @app.command()
    def ask(
        collection: Annotated[str, typer.Option("--collection", help="Collection to answer from.")],
        text: Annotated[str | None, typer.Option("--text", help="A typed question.")] = None,
        audio: Annotated[
            Path | None, typer.Option("--audio", help="A spoken question (wav, flac, mp3...).")
        ] = None,
        language: Annotated[
            str, typer.Option("--lang", help="Caller's language: auto, yue, cmn or en.")
        ] = "auto",
        out: Annotated[
            Path | None, typer.Option("--out", help="Write the spoken answer to this WAV file.")
        ] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    ) -> None:
        """Answer one question from a collection, with sources; --audio/--out go through speech."""
        if (text is None) == (audio is None):
            typer.echo("error: give exactly one of --text or --audio", err=True)
            raise typer.Exit(2)
        if audio is not None and not audio.is_file():
            typer.echo(f"error: {audio} is not a file", err=True)
            raise typer.Exit(2)
        try:
            outcome = asyncio.run(
                _run_turn(
                    text, audio, collection=collection, language=_language(language),
                    speak_answer=out is not None or audio is not None, echo=not as_json,
                    kb=kb(), voices=voices(), settings=assistant(),
                )
            )  # fmt: skip
        except (GeneratorError, FileNotFoundError, ValueError) as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(1) from exc
        if out is not None and outcome.pcm:
            _write_wav(out, outcome)
        if as_json:
            typer.echo(json.dumps(outcome.as_dict(), ensure_ascii=False))
        else:
            _print_outcome(outcome, out)
        if outcome.error is not None:
            raise typer.Exit(1)

    # issue 14: the answer benchmark
    evaluate = typer.Typer(help="Evaluate answers on QA files.", no_args_is_help=True)
    app.add_typer(evaluate, name="eval")

    @evaluate.command("answers")
    def eval_answers(
        qa: Annotated[Path, typer.Argument(help="QA JSONL (see bench/data/qa/README.md).")],
        collection: Annotated[str, typer.Option("--collection", help="Collection to ask.")],
        spoken: Annotated[
            bool, typer.Option("--spoken", help="Synthesise speech (time to first audio).")
        ] = False,
        limit: Annotated[
            int, typer.Option("--per-language", help="At most this many questions a language.")
        ] = 0,
        outcomes: Annotated[
            Path | None, typer.Option("--outcomes", help="Write each turn's outcome (JSONL).")
        ] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print the table as JSON.")] = False,
    ) -> None:
        """Per language: gold-answer rate (model vs extractive), refusals on answerable and
        unanswerable questions, invented figures, script/colloquial/citation rates, p50 time
        to first text and first audio."""
        from assistant.answer_eval import format_table, load_qa, score, summarise

        try:
            items = load_qa(qa)
        except (OSError, ValueError) as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from exc
        if limit > 0:
            items = [i for n, i in enumerate(items) if _rank_in_language(items, n) < limit]
        recorded = asyncio.run(_record_all(items, collection, spoken, kb(), voices(), assistant()))
        if outcomes is not None:
            from assistant.answer_eval import write_outcomes

            write_outcomes(outcomes, recorded)
        table = summarise([score(i, o) for i, o in zip(items, recorded, strict=True)])
        typer.echo(json.dumps(table, ensure_ascii=False) if as_json else format_table(table))


def _rank_in_language(items: list, index: int) -> int:
    return sum(1 for i in items[:index] if i.language == items[index].language)


async def _record_all(
    items: list,
    collection: str,
    spoken: bool,
    kb: KnowledgeBaseSettings,
    voices: VoiceSettings,
    settings: AssistantSettings,
) -> list:
    from assistant.answer_eval import record_turn
    from assistant.turn import Assistant
    from knowledge_base import KnowledgeBase

    knowledge_base = KnowledgeBase(kb)
    if collection not in knowledge_base.collections():
        typer.echo(f"error: no collection named {collection!r}", err=True)
        raise typer.Exit(2)
    voice_for = None
    if spoken:
        from voices.tts.registry import VoiceRegistry

        voice_for = VoiceRegistry(voices.tts).voice
    assistant = Assistant.from_settings(settings, knowledge_base, voice_for=voice_for)
    try:
        return [
            await record_turn(assistant, knowledge_base, item, collection, spoken=spoken)
            for item in items
        ]
    finally:
        await assistant.aclose()


def _print_outcome(outcome: _Outcome, out: Path | None) -> None:
    if outcome.error is not None:
        typer.echo(f"error ({outcome.error.code}): {outcome.error.message}", err=True)
        return
    typer.echo("")
    for source in outcome.sources:
        link = f" <{source.link}>" if source.link else ""
        typer.echo(f"[{source.number}] {source.title} ({source.doc_id}){link}")
    flags = [f for f in ("refused" if outcome.refused else "", outcome.fallback or "") if f]
    timing = ", ".join(f"{k} {v:.0f} ms" for k, v in outcome.timings.items())
    typer.echo(f"({outcome.language}{'; ' + ', '.join(flags) if flags else ''}; {timing})")
    if out is not None and outcome.pcm:
        typer.echo(f"spoken answer: {out}")


def prepare_models(settings: AssistantSettings) -> list[str]:
    """Assemble and verify this package's embedded models; one line per model for the CLI."""
    path = embedded_model_path(settings)
    return [f"assistant llm: {path} ({path.stat().st_size:,} bytes, sha256 verified)"]
