"""`samyu transcribe` and `samyu speak`."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import numpy as np
import soundfile
import typer

from voices.config import VoiceSettings
from voices.types import SPOKEN_LANGUAGES, SpokenLanguage


def register(app: typer.Typer, settings: Callable[[], VoiceSettings]) -> None:
    @app.command()
    def transcribe(
        audio: Annotated[Path, typer.Argument(help="wav, flac, mp3 (anything FFmpeg reads).")],
        as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
        language: Annotated[
            str, typer.Option("--lang", help="Caller's language: auto, yue, cmn or en.")
        ] = "auto",
    ) -> None:
        """Transcribe an audio file: text, language (yue|cmn|en), duration."""
        from voices.asr import build_transcriber
        from voices.audio_io import AudioInputError
        from voices.files import transcribe_file

        hint = _language_option(language, allow_auto=True)
        cfg = settings()
        loading = time.perf_counter()
        transcriber = build_transcriber(cfg)
        started = time.perf_counter()
        try:
            result = transcribe_file(
                audio, transcriber, files=cfg.files, vad=cfg.vad, language=hint
            )
        except AudioInputError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from exc
        elapsed = time.perf_counter() - started
        if as_json:
            typer.echo(
                json.dumps(
                    {
                        "text": result.text,
                        "language": result.language,
                        "duration_s": round(result.duration_s, 3),
                        "elapsed_s": round(elapsed, 3),  # decoding + recognition, model loaded
                        "load_s": round(started - loading, 3),
                    },
                    ensure_ascii=False,
                )
            )
        else:
            typer.echo(f"[{result.language}] {result.text}")

    @app.command()
    def speak(
        text: Annotated[str, typer.Argument(help="What to say (markdown and URLs are dropped).")],
        language: Annotated[str, typer.Option("--lang", help="yue, cmn or en.")] = "en",
        out: Annotated[Path, typer.Option("--out", help="WAV file to write.")] = Path("answer.wav"),
    ) -> None:
        """Speak text in yue, cmn or en with the configured voice into a WAV file."""
        from voices.tts.registry import VoiceRegistry

        lang = _language_option(language, allow_auto=False)
        assert lang is not None
        voice = VoiceRegistry(settings().tts).voice(lang)
        try:
            pcm = b"".join(chunk.pcm for chunk in voice.synthesize(text, lang))
        except ValueError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from exc
        samples = np.frombuffer(pcm, dtype="<i2")
        soundfile.write(out, samples, voice.sample_rate, subtype="PCM_16")
        typer.echo(
            f"{out}: {samples.size / voice.sample_rate:.2f} s at {voice.sample_rate} Hz "
            f"({voice.name})"
        )


def _language_option(value: str, *, allow_auto: bool) -> SpokenLanguage | None:
    if allow_auto and value == "auto":
        return None
    if value not in SPOKEN_LANGUAGES:
        choices = ("auto", *SPOKEN_LANGUAGES) if allow_auto else SPOKEN_LANGUAGES
        raise typer.BadParameter(f"{value!r}: use one of {', '.join(choices)}")
    return value  # type: ignore[return-value]


def prepare_models(settings: VoiceSettings) -> list[str]:
    """Assemble and verify this package's embedded models; one line per model for the CLI."""
    from voices.asr.faster_whisper import resolve_model_dir
    from voices.tts.piper import joe_voice_path
    from voices.vad import silero_model_path

    whisper = resolve_model_dir(settings.asr, settings.cache)
    lines = [
        f"asr: {whisper} (sha256 verified)"
        if settings.asr.model_dir is None
        else f"asr: {whisper} (configured directory)"
    ]
    lines.append(f"vad: {silero_model_path()}")
    lines.append(f"tts en (piper): {settings.tts.piper_model or joe_voice_path()}")
    from voices.tts.kokoro_yue import kokoro_model_path, kokoro_onnx_path

    lines.append(f"tts yue (kokoro): {kokoro_onnx_path(settings.cache)} (sha256 verified)")
    tts = settings.tts
    if tts.kokoro_edge_frames or tts.kokoro_max_frames:
        derived = kokoro_model_path(settings.cache, tts.kokoro_edge_frames, tts.kokoro_max_frames)
        lines.append(f"tts yue (kokoro, padding durations capped): {derived} (sha256 recorded)")
    if tts.kokoro_window_frames > 0:
        from voices.tts import kokoro_window
        from voices.tts.kokoro_yue import KokoroCantoneseSynthesizer

        model = kokoro_model_path(settings.cache, tts.kokoro_edge_frames, tts.kokoro_max_frames)
        # loading the windowed voice splits the graph and pools the voice's norm statistics
        KokoroCantoneseSynthesizer(
            settings.cache,
            voice=tts.kokoro_voice,
            speed=tts.kokoro_speed,
            tone_scheme=tts.kokoro_tone_scheme,
            edge_frames=tts.kokoro_edge_frames,
            max_frames=tts.kokoro_max_frames,
            window_frames=tts.kokoro_window_frames,
        )
        front, window = kokoro_window.derived_names(model)
        lines.append(f"tts yue (kokoro, generator on windows): {front}, {window} (sha256 recorded)")
    return lines
