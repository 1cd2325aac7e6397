"""`samyu meeting transcribe FILE [--speakers N] [--out DIR] [--json]`."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

FORMATS = ("md", "docx", "srt", "vtt", "json")


def register(app: typer.Typer, settings: Callable[[], Any]) -> None:
    meeting = typer.Typer(help="Meetings: who said what, with minutes.", no_args_is_help=True)
    app.add_typer(meeting, name="meeting")

    @meeting.command()
    def transcribe(
        audio: Annotated[Path, typer.Argument(help="A recording (wav, flac, mp3, m4a, ogg...).")],
        speakers: Annotated[
            int | None, typer.Option("--speakers", min=1, help="Expected number of speakers.")
        ] = None,
        out: Annotated[
            Path | None, typer.Option("--out", help="Write md, docx, srt, vtt and json here.")
        ] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print the record as JSON.")] = False,
        language: Annotated[
            str, typer.Option("--lang", help="Main language hint: auto, yue, cmn or en.")
        ] = "auto",
        minutes: Annotated[
            str, typer.Option(help="Minutes: extractive, llm (the embedded model), or none.")
        ] = "extractive",
        title: Annotated[str | None, typer.Option(help="Title (default: the file name).")] = None,
        redact: Annotated[
            bool, typer.Option(help="Redact HKID, phone numbers and emails in the exports.")
        ] = False,
    ) -> None:
        """Transcribe a meeting recording: segments with speaker, time and language, minutes."""
        from serving.meeting_export import export
        from serving.meeting_service import build_engines, make_minutes
        from serving.meeting_store import new_record
        from voices.audio_io import AudioInputError
        from voices.diarization import DiarizationError

        if language not in ("auto", "yue", "cmn", "en"):
            raise typer.BadParameter("--lang must be auto, yue, cmn or en")
        if minutes not in ("extractive", "llm", "none"):
            raise typer.BadParameter("--minutes must be extractive, llm or none")
        cfg = settings()
        try:  # a bad file fails before any model loads
            from voices.audio_io import iter_file_audio

            speech = cfg.meetings.speech
            next(
                iter_file_audio(
                    audio,
                    max_duration_s=speech.max_duration_s,
                    max_bytes=speech.max_file_bytes,
                    block_s=1.0,
                )
            )
        except AudioInputError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from exc
        generator = None
        if minutes == "llm":
            from assistant.generators import build_generator

            generator = build_generator(cfg.assistant)
        loading = time.perf_counter()
        try:
            engines = build_engines(cfg, generator=generator)
        except DiarizationError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from exc
        started = time.perf_counter()
        options = {"speakers": speakers, "language": None if language == "auto" else language}
        record = new_record("local", title or audio.stem, audio.name, options)
        try:
            transcript = engines.meetings.transcribe_file(
                audio, num_speakers=speakers, language=options["language"]
            )
        except (AudioInputError, DiarizationError) as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from exc
        record.update(status="done", transcript=transcript.as_dict())
        if minutes != "none":
            minutes_settings = cfg.meetings.minutes.model_copy(
                update={"engine": "llm" if minutes == "llm" else "extractive"}
            )
            record["minutes"] = make_minutes(transcript, generator, minutes_settings).as_dict()
        record["timing"] = {
            "load_s": round(started - loading, 2),
            "elapsed_s": round(time.perf_counter() - started, 2),
        }
        redact = redact or cfg.meetings.redact_exports
        if out is not None:
            out.mkdir(parents=True, exist_ok=True)
            for fmt in FORMATS:
                (out / f"{audio.stem}.{fmt}").write_bytes(export(record, fmt, redact=redact))
        if as_json:
            typer.echo(export(record, "json", redact=redact).decode())
            return
        for seg in transcript.segments:
            typer.echo(
                f"[{seg.start:7.1f}-{seg.end:7.1f}] {seg.speaker} ({seg.language}) {seg.text}"
            )
        typer.echo(
            f"{len(transcript.segments)} segments, {len(transcript.speakers)} speakers, "
            f"{transcript.duration_s:.0f} s of audio in {record['timing']['elapsed_s']:.0f} s"
            + (f"; files in {out}" if out else "")
        )
