"""Meeting transcription time and peak memory per hour of audio, and their growth with length.

    .venv/bin/python bench/meetings_speed.py                       # defaults below
    .venv/bin/python bench/meetings_speed.py --full 10 30 60 --diarize 10 30 60   # idle machine

A long recording is made by laying real speech clips of 8 people end to end in turns (with
0.3-0.8 s pauses) up to each length, written as FLAC and read back streamed from disk. Each
run is its own process, so its peak RSS (ru_maxrss) is that run's:
- full: decode + VAD + Whisper base int8 with word times + GE2E embeddings + clustering +
  extractive minutes (what `samyu meeting transcribe` does);
- diarize: decode + VAD + GE2E + clustering only.
Per hour = elapsed / audio duration x 3600 (wall and CPU seconds). On this shared 2-core
machine the defaults are short (full 2 and 4 min, diarize 10 and 30 min); longer lengths are
extrapolated from them, and the output says so.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def make_recording(minutes: float, path: Path) -> float:
    import soundfile

    from tests.meeting_audio import clip

    shared = ROOT.parent / "shared" / "fixtures" / "audio"
    clips_dir = ROOT / "bench" / "data" / "meetings" / "clips"
    sources = [p for p in sorted(shared.glob("*.wav"))] + sorted(clips_dir.glob("*.flac"))
    clips = [clip(p) for p in sources]
    rng = np.random.default_rng(7)
    target = int(minutes * 60 * 16000)
    with soundfile.SoundFile(path, "w", 16000, 1, format="FLAC") as out:
        written = 0
        while written < target:
            audio = clips[int(rng.integers(len(clips)))]
            pause = np.zeros(int(rng.uniform(0.3, 0.8) * 16000), dtype=np.float32)
            piece = np.concatenate([audio, pause])[: target - written]
            out.write(piece)
            written += piece.size
    return written / 16000


def child(mode: str, path: Path) -> None:
    from serving.meeting_service import build_engines, make_minutes
    from serving.settings import Settings
    from voices.meeting import diarize_recording

    settings = Settings()
    engines = build_engines(settings)
    started, cpu = time.perf_counter(), time.process_time()
    if mode == "full":
        transcript = engines.meetings.transcribe_file(path)
        make_minutes(transcript, None, settings.meetings.minutes)
        found = {"segments": len(transcript.segments), "speakers": len(transcript.speakers)}
    else:
        diarization = diarize_recording(path, engines.meetings.diarizer)
        found = {"turns": len(diarization.turns), "speakers": len(diarization.speakers)}
    print(
        json.dumps(
            {
                "elapsed_s": round(time.perf_counter() - started, 1),
                "cpu_s": round(time.process_time() - cpu, 1),
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                **found,
            }
        )
    )


def run(mode: str, minutes: float, folder: Path) -> dict:
    path = folder / f"meeting-{minutes:g}min.flac"
    audio_s = make_recording(minutes, path)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, __file__, "--child", mode, str(path)],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return {
        "mode": mode,
        "audio_min": round(audio_s / 60, 1),
        **result,
        "wall_s_per_audio_hour": round(result["elapsed_s"] / audio_s * 3600),
        "cpu_s_per_audio_hour": round(result["cpu_s"] / audio_s * 3600),
        "loadavg": round(os.getloadavg()[0], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--full", type=float, nargs="*", default=[2, 4])
    parser.add_argument("--diarize", type=float, nargs="*", default=[10, 30])
    parser.add_argument("--child", nargs=2, metavar=("MODE", "PATH"))
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]))
        return
    print(
        json.dumps(
            {
                "machine": f"{os.cpu_count()} cores",
                "loadavg": round(os.getloadavg()[0], 2),
            }
        )
    )
    folder = Path(tempfile.mkdtemp(prefix="meeting-speed-"))
    rows = [run("full", m, folder) for m in args.full]
    rows += [run("diarize", m, folder) for m in args.diarize]
    for row in rows:
        print(json.dumps(row))
    for mode in ("full", "diarize"):
        mine = [r for r in rows if r["mode"] == mode]
        if len(mine) >= 2:
            a, b = mine[0], mine[-1]
            print(
                json.dumps(
                    {
                        "mode": mode,
                        "extrapolated": True,
                        "note": f"from {a['audio_min']}, {b['audio_min']} min: time linear in "
                        "length, memory = the longer run's peak plus its growth per minute",
                        "hour_wall_s": round(b["elapsed_s"] / b["audio_min"] * 60),
                        "rss_growth_mb_per_10_min": round(
                            (b["peak_rss_mb"] - a["peak_rss_mb"])
                            / (b["audio_min"] - a["audio_min"])
                            * 10,
                            1,
                        ),
                    }
                )
            )


if __name__ == "__main__":
    main()
