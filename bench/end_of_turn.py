"""End of turn: silence-only endpointing vs the VAD with Smart Turn v3, on real turns with pauses.

    PYTHONPATH=$PWD .venv/bin/python bench/end_of_turn.py [--turns FILE.jsonl]
        [--check-ms 300 500] [--threshold 0.5 0.7] [--verbose]

The turns (bench/data/end-of-turn/README.md) are real people's speech that nobody here
wrote or edited: read passages and telephone-call scripts from the SPPAS samples, in seven
languages, cut at the ends of sentences with their natural pauses inside (inter-pausal units
from the recordings' own annotations). Each turn is fed, as recorded and followed by 3 s of
silence, through the real streaming recogniser's endpointing (Silero VAD, and Smart Turn
when enabled) frame by frame in audio time. The transcriber is a stub (no Whisper): only end
points are measured.

- cut-off: the recogniser ended an utterance before the caller's labelled end of speech (it
  would have answered half a question); counted per turn, and apart for the turns that
  have a pause inside;
- added delay: from the labelled end of speech to the end point that closed the turn.

Smart Turn's compute (one model call per check, in the decode worker) is printed apart: on a
loaded machine it adds that much wall time to each check's decision.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from voices.audio_io import read_file_audio  # noqa: E402
from voices.config import StreamingSettings, TurnDetectionSettings  # noqa: E402
from voices.streaming import StreamingRecognizer  # noqa: E402
from voices.turn_detection import SmartTurnModel  # noqa: E402
from voices.types import PIPELINE_SAMPLE_RATE, SpokenLanguage, Transcript, Utterance  # noqa: E402
from voices.vad import shared_vad_model  # noqa: E402

SR = PIPELINE_SAMPLE_RATE
FRAME = 320  # 20 ms frames, as the widget sends
TRAILING_S = 3.0
TOLERANCE_S = 0.05  # an end point this close before the labelled end is not a cut-off


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


def end_points(
    audio: np.ndarray,
    language: SpokenLanguage | None,
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


@dataclass(frozen=True)
class Turn:
    id: str
    language: str  # ISO code (cmn, yue, en, deu, fra, jpn, por, spa)
    audio: np.ndarray  # the turn as recorded, from a little before its first word
    end_s: float  # the labelled end of speech, in the clip's time
    paused: bool  # a pause inside the turn (between two of its units)

    @property
    def spoken(self) -> SpokenLanguage | None:
        """The recogniser's language for the turn (None: not one the service speaks)."""
        return self.language if self.language in ("yue", "cmn", "en") else None  # type: ignore[return-value]


def load_turns(path: Path) -> list[Turn]:
    recordings: dict[str, np.ndarray] = {}
    turns = []
    for line in path.read_text(encoding="utf-8").splitlines():
        entry = json.loads(line)
        if entry["file"] not in recordings:
            recordings[entry["file"]] = read_file_audio(
                path.parent / entry["file"], max_duration_s=120, max_bytes=10**8
            )
        audio = recordings[entry["file"]]
        start = int(entry["start_s"] * SR)
        end = int(entry["end_s"] * SR)
        turns.append(
            Turn(
                entry["id"],
                entry["language"],
                audio[start:end],
                (end - start) / SR,
                bool(entry["inner_pauses_s"]),
            )
        )
    return turns


@dataclass
class Tally:
    turns: int = 0
    cut_offs: int = 0
    paused: int = 0
    paused_cut_offs: int = 0
    delays_ms: list[float] = field(default_factory=list)

    def add(self, turn: Turn, points: list[float]) -> None:
        early = [p for p in points if p < turn.end_s - TOLERANCE_S]
        closing = [p for p in points if p >= turn.end_s - TOLERANCE_S]
        self.turns += 1
        self.cut_offs += bool(early)
        self.paused += turn.paused
        self.paused_cut_offs += bool(early) and turn.paused
        if closing:
            self.delays_ms.append((closing[0] - turn.end_s) * 1000)

    def row(self, name: str) -> str:
        d = sorted(self.delays_ms)
        p50 = statistics.median(d) if d else float("nan")
        p90 = d[min(len(d) - 1, int(0.9 * len(d)))] if d else float("nan")
        return (
            f"| {name} | {self.cut_offs}/{self.turns} | {self.paused_cut_offs}/{self.paused} "
            f"| {p50:.0f} | {p90:.0f} |"
        )


def main(args: argparse.Namespace) -> None:
    turns = load_turns(args.turns)
    model = TimedModel(SmartTurnModel())
    default = TurnDetectionSettings()
    configs: dict[str, tuple[TimedModel | None, int, TurnDetectionSettings | None]] = {
        "silence 700 ms": (None, 700, None),
        "silence 1600 ms": (None, 1600, None),
        f"Smart Turn (default: first check {default.check_silence_ms} ms, thresholds "
        f"{sorted(set(default.thresholds.values()))}, max {default.max_silence_ms} ms)": (
            model,
            700,
            default,
        ),
    }
    for check_ms in args.check_ms:
        for threshold in args.threshold:
            turn = TurnDetectionSettings(
                check_silence_ms=check_ms, thresholds=dict.fromkeys(("yue", "cmn", "en"), threshold)
            )
            configs[f"Smart Turn: first check {check_ms} ms, threshold {threshold:g}"] = (
                model,
                700,
                turn,
            )
    paused = sum(t.paused for t in turns)
    languages = sorted({t.language for t in turns})
    print(
        f"# {len(turns)} real turns ({paused} with a pause inside) from {args.turns}, "
        f"languages {languages}; load {os.getloadavg()}"
    )
    print("# (compute figures vary with the machine's load: see the load average)")
    print("\n| endpointing | cut off | cut off, turns with a pause | delay p50 ms | p90 ms |")
    print("|---|---|---|---|---|")
    by_language: dict[str, dict[str, Tally]] = {}
    for name, (detector, silence_ms, turn_settings) in configs.items():
        tally = Tally()
        for turn in turns:
            points = end_points(turn.audio, turn.spoken, detector, silence_ms, turn_settings)
            tally.add(turn, points)
            by_language.setdefault(name, {}).setdefault(turn.language, Tally()).add(turn, points)
            if args.verbose:
                record = {"config": name, "turn": turn.id, "end_s": round(turn.end_s, 2)}
                record["end_points_s"] = [round(p, 2) for p in points]
                print(json.dumps(record))
        print(tally.row(name))
    print("\nPer language (cut off | delay p50 ms):\n")
    names = list(configs)
    print("| language | turns | " + " | ".join(names) + " |")
    print("|---|---|" + "---|" * len(names))
    for language in languages:
        cells = []
        for name in names:
            t = by_language[name][language]
            p50 = statistics.median(t.delays_ms) if t.delays_ms else float("nan")
            cells.append(f"{t.cut_offs} / {p50:.0f}")
        count = by_language[names[0]][language].turns
        print(f"| {language} | {count} | " + " | ".join(cells) + " |")
    if model.seconds:
        ms = sorted(s * 1000 for s in model.seconds)
        print(
            f"\nSmart Turn compute per check: p50 {ms[len(ms) // 2]:.0f} ms, max {ms[-1]:.0f} ms "
            f"({len(ms)} checks, 1 thread); load {os.getloadavg()}"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--turns", type=Path, default=ROOT / "bench" / "data" / "end-of-turn" / "turns.jsonl"
    )
    parser.add_argument("--check-ms", type=int, nargs="*", default=[])
    parser.add_argument("--threshold", type=float, nargs="*", default=[0.5])
    parser.add_argument("--verbose", action="store_true", help="one JSON line per turn")
    main(parser.parse_args())
