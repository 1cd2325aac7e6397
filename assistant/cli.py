"""`samyu ask`: one turn from the command line, typed (--text) or spoken (--audio)."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from assistant.config import AssistantSettings
from assistant.frames import FinalTranscript, SessionEvent
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
from voices.types import Transcript

if TYPE_CHECKING:
    from assistant.answerer import Conversation
    from assistant.session import VoiceSession

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
    """One turn through the same chain as the voice server: a `VoiceSession` fed the file's
    audio (push-to-talk: the file's end is the end of speech) or the typed question."""
    from assistant.session import SessionConfig, VoiceSession
    from assistant.turn import Assistant
    from knowledge_base import KnowledgeBase
    from voices.streaming import AsyncStreamingRecognizer, StreamingRecognizer

    transcriber = None
    if audio is not None:
        from voices.asr import build_transcriber

        transcriber = build_transcriber(voices)
    voice_for = None
    if speak_answer:
        from voices.tts.registry import VoiceRegistry

        voice_for = VoiceRegistry(voices.tts).voice
    assistant = Assistant.from_settings(settings, KnowledgeBase(kb), voice_for=voice_for)
    outcome = _Outcome(transcript=question or "", language=language)
    finished = asyncio.Event()

    async def emit(item: SessionEvent) -> None:
        event = item.event
        if isinstance(event, FinalTranscript):
            outcome.transcript, outcome.language = event.text, event.language
            if not event.text:
                outcome.error = TurnError("no_speech", "no speech was recognised in the audio")
                finished.set()
        elif isinstance(event, TurnError) and item.turn_id is None:
            outcome.error = event  # a notice about the input (e.g. the utterance was cut)
        elif item.turn_id is not None and isinstance(event, TurnEvent):
            outcome.take(event, echo=echo)
            if isinstance(event, TurnEnd | TurnError):
                finished.set()

    def run_turn(text: str, *, language: SpokenLanguage | None, conversation: Conversation):
        turn = assistant.answer_spoken if speak_answer else assistant.answer
        return turn(text, language=language, collection=collection, conversation=conversation)

    streaming = voices.streaming.model_copy(
        update={"partials": False, "max_utterance_s": voices.files.max_file_duration_s}
    )
    recognizer = AsyncStreamingRecognizer(
        StreamingRecognizer(
            transcriber or _NoTranscriber(),
            language=language,
            streaming=streaming,
            vad=voices.vad,
            endpointing=False,
        )
    )
    session = VoiceSession(
        recognizer=recognizer,
        run_turn=run_turn,
        conversation=assistant.new_conversation(),
        emit=emit,
        config=SessionConfig(language=language, max_utterance_s=streaming.max_utterance_s),
    )
    await session.start()
    try:
        if audio is not None:
            await _feed_file(session, audio, voices)
        else:
            assert question is not None
            await session.ask(question)
        await finished.wait()
    finally:
        await session.close()
        await assistant.aclose()
    return outcome


class _NoTranscriber:
    """Typed turns never transcribe."""

    def transcribe(self, audio: object, **_: object) -> Transcript:
        raise RuntimeError("a typed turn has no audio to transcribe")


async def _feed_file(session: VoiceSession, audio: Path, voices: VoiceSettings) -> None:
    """The file's audio as a caller's microphone would send it, then the end of speech."""
    from voices.audio_io import float_to_pcm16, read_file_audio

    samples = await asyncio.to_thread(
        read_file_audio,
        audio,
        max_duration_s=voices.files.max_file_duration_s,
        max_bytes=voices.files.max_file_bytes,
    )
    pcm = float_to_pcm16(samples)
    step = 16_000 // 10 * 2  # 100 ms frames
    for i in range(0, len(pcm), step):
        await session.feed_audio(pcm[i : i + step])
    await session.end_of_speech()


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
