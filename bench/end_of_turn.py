"""End of turn: silence-only endpointing vs the VAD with Smart Turn v3, on real speech with pauses.

    .venv/bin/python bench/end_of_turn.py [--audio ../shared/fixtures/audio] [--pause-ms 900]

Each clip is one caller's turn (real human speech). Two versions of each are run through the
real streaming recogniser's endpointing (Silero VAD, and Smart Turn when enabled) at real
rate, frame by frame: the clip as recorded (its own pauses), and the clip with its longest
inner pause (between 25 % and 85 % of the speech, a real word boundary found by the VAD)
stretched to `--pause-ms` of silence, as a caller does who stops to think mid-sentence.
The transcriber is a stub (no Whisper): only end points are measured, in audio time.

- cut-off: the recogniser ended the utterance before the caller finished (an end point
  inside the turn); counted per turn;
- added delay: from the end of the caller's speech (the last voiced VAD window) to the end
  point that closed the turn.

Turn detection's own compute (one model call per check, in the decode worker) is printed
apart: on a loaded machine it adds that much wall time to each check's decision.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from voices.audio_io import read_file_audio  # noqa: E402
from voices.config import StreamingSettings, TurnDetectionSettings, VadSettings  # noqa: E402
from voices.streaming import StreamingRecognizer  # noqa: E402
from voices.turn_detection import SmartTurnModel  # noqa: E402
from voices.types import PIPELINE_SAMPLE_RATE, SpokenLanguage, Transcript, Utterance  # noqa: E402
from voices.vad import WINDOW, SileroVad, shared_vad_model  # noqa: E402

SR = PIPELINE_SAMPLE_RATE
FRAME = 320  # 20 ms frames, as the widget sends
TRAILING_S = 3.0


class StubTranscriber:
    """Every utterance transcribes as 'x': only the end points matter here."""

    def transcribe(self, audio: np.ndarray, **_: object) -> Transcript:
        return Transcript("x", "en", "en", 1.0, audio.size / SR)


class TimedModel:
    """SmartTurnModel, timing each call (the compute a check costs)."""

    def __init__(self, model: SmartTurnModel) -> None:
        self.model = model
        self.seconds: list[float] = []

    def end_probability(self, audio: np.ndarray) -> float:
        started = time.perf_counter()
        value = self.model.end_probability(audio)
        self.seconds.append(time.perf_counter() - started)
        return value


def voiced_windows(audio: np.ndarray) -> np.ndarray:
    probs = SileroVad(shared_vad_model()).process(audio)
    return probs >= VadSettings().threshold


def speech_end_s(audio: np.ndarray) -> float:
    voiced = np.flatnonzero(voiced_windows(audio))
    return float((voiced[-1] + 1) * WINDOW / SR) if voiced.size else 0.0


def with_long_pause(audio: np.ndarray, pause_ms: float) -> np.ndarray | None:
    """The clip with its longest inner pause stretched to `pause_ms` (None: no inner pause)."""
    voiced = voiced_windows(audio)
    idx = np.flatnonzero(voiced)
    if idx.size < 4:
        return None
    first, last = idx[0], idx[-1]
    best: tuple[int, int] | None = None
    run_start = None
    for i in range(first, last + 1):
        if not voiced[i] and run_start is None:
            run_start = i
        elif voiced[i] and run_start is not None:
            lo, hi = first + 0.25 * (last - first), first + 0.85 * (last - first)
            if lo <= run_start <= hi and (best is None or i - run_start > best[1] - best[0]):
                best = (run_start, i)
            run_start = None
    if best is None:
        # no silent window inside: cut at the middle of the speech (a word boundary or not)
        middle = int((first + last) / 2)
        best = (middle, middle)
    cut = ((best[0] + best[1]) // 2) * WINDOW
    gap = np.zeros(int(pause_ms / 1000 * SR), np.float32)
    return np.concatenate([audio[:cut], gap, audio[cut:]])


def end_points(
    audio: np.ndarray,
    language: SpokenLanguage,
    detector: TimedModel | None,
    silence_ms: int,
    turn: TurnDetectionSettings | None = None,
) -> list[float]:
    """Audio times (s) at which the recogniser ended an utterance with speech in it."""
    rec = StreamingRecognizer(
        StubTranscriber(),
        language=language,
        streaming=StreamingSettings(partials=False, end_silence_ms=silence_ms),
        vad_model=shared_vad_model(),
        turn_detector=detector,
        turn_detection=turn or TurnDetectionSettings(),
    )
    padded = np.concatenate([audio, np.zeros(int(TRAILING_S * SR), np.float32)])
    points: list[float] = []
    for i in range(0, padded.size, FRAME):
        for event in rec.accept_samples(padded[i : i + FRAME]) + rec.decode_pending():
            if isinstance(event, Utterance) and event.transcript.text:
                points.append((i + FRAME) / SR)
    return points


def main(args: argparse.Namespace) -> None:
    entries = json.loads((args.audio / "transcripts.json").read_text(encoding="utf-8"))
    model = TimedModel(SmartTurnModel())
    default = TurnDetectionSettings()
    configs: dict[str, tuple[TimedModel | None, int, TurnDetectionSettings | None]] = {
        "silence 700 ms (before)": (None, 700, None),
        "silence 1600 ms": (None, 1600, None),
        f"VAD + Smart Turn, defaults (after): first check {default.check_silence_ms} ms, "
        f"then every {default.recheck_ms} ms, thresholds {default.thresholds}, "
        f"max {default.max_silence_ms} ms": (model, 700, default),
    }
    for check_ms in args.check_ms:
        for threshold in args.threshold:
            turn = TurnDetectionSettings(
                check_silence_ms=check_ms, thresholds=dict.fromkeys(("yue", "cmn", "en"), threshold)
            )
            name = f"VAD + Smart Turn: first check {check_ms} ms, threshold {threshold:g}"
            configs[name] = (model, 700, turn)
    turns: list[tuple[str, str, np.ndarray, SpokenLanguage]] = []
    for entry in entries:
        audio = read_file_audio(args.audio / entry["file"], max_duration_s=60, max_bytes=10**8)
        lang: SpokenLanguage = {"yue": "yue", "en": "en"}.get(entry["language"], "cmn")  # type: ignore[assignment]
        turns.append((entry["file"], "as recorded", audio, lang))
        paused = with_long_pause(audio, args.pause_ms)
        if paused is not None:
            turns.append((entry["file"], f"pause {args.pause_ms:g} ms", paused, lang))
    print(f"# {len(turns)} turns from {args.audio}; load {os.getloadavg()}")
    print("# (the machine is shared by 7 parallel helpers: compute figures vary with load)")
    for name, (detector, silence_ms, turn) in configs.items():
        cut_offs, delays = 0, []
        for clip, variant, audio, lang in turns:
            end = speech_end_s(audio)
            points = end_points(audio, lang, detector, silence_ms, turn)
            early = [p for p in points if p < end]
            closing = [p for p in points if p >= end]
            cut_offs += bool(early)
            if closing:
                delays.append((closing[0] - end) * 1000)
            if args.verbose:
                print(
                    json.dumps(
                        {
                            "config": name,
                            "clip": clip,
                            "variant": variant,
                            "speech_end_s": round(end, 2),
                            "end_points_s": [round(p, 2) for p in points],
                            "cut_off": bool(early),
                        }
                    )
                )
        p50 = statistics.median(delays) if delays else float("nan")
        print(
            f"{name}: cut-offs {cut_offs}/{len(turns)} turns; added delay after the end of "
            f"speech p50 {p50:.0f} ms, max {max(delays, default=float('nan')):.0f} ms "
            f"(n={len(delays)})"
        )
    if model.seconds:
        ms = sorted(s * 1000 for s in model.seconds)
        print(
            f"Smart Turn compute per check: p50 {ms[len(ms) // 2]:.0f} ms, max {ms[-1]:.0f} ms "
            f"({len(ms)} checks, 1 thread); load {os.getloadavg()}"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--audio", type=Path, default=ROOT.parent / "shared" / "fixtures" / "audio")
    parser.add_argument("--pause-ms", type=float, default=900)
    parser.add_argument("--check-ms", type=int, nargs="*", default=[])
    parser.add_argument("--threshold", type=float, nargs="*", default=[0.5])
    parser.add_argument("--verbose", action="store_true", help="one JSON line per turn")
    main(parser.parse_args())
