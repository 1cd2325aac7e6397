"""ASR figures on this machine: real-time factor, peak memory, and streaming latencies.

    .venv/bin/python bench/voices_asr.py                      # Whisper base int8 and float32
    .venv/bin/python bench/voices_asr.py --model-dir DIR --compute-type int8   # another model

Per configuration (each in its own process, so peak RSS is that configuration's):
  load time, RTF = decode time / audio duration over the five shared clips (language
  detection included), CPU RTF = CPU seconds / audio seconds / threads (what the RTF would be
  on otherwise idle cores: this machine is shared), peak RSS.
Streaming (default configuration only), with audio fed at real time through the asyncio
recogniser in 20 ms frames:
  time to first partial  = wall time from the speech onset being fed to the first partial;
  end of speech -> final = wall time from the last speech sample being fed to the final
                           (the 0.7 s end-point silence + decoding), and the decode part alone.
  idle_* = the same latencies estimated from CPU time (this machine is shared, so wall
           times above include waiting for other processes): end-point silence (0.7 s)
           or first 0.5 s of speech, plus the decode's CPU seconds / threads.
Bounded: five clips of 5-8 s, each decoded twice (the first run warms up).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CLIPS = ["0-en.wav", "8k-en.wav", "1-zh.wav", "2-zh-en.wav", "yue.wav"]
AUDIO_DIR = ROOT.parent / "shared" / "fixtures" / "audio"


def _settings(model_dir: str | None, compute_type: str, threads: int):
    from voices.config import AsrSettings, VoiceSettings

    cache = Path(os.environ.get("SAMYU_CACHE", "~/.cache/samyu")).expanduser()
    return VoiceSettings(
        cache=cache,
        asr=AsrSettings(model_dir=model_dir, compute_type=compute_type, cpu_threads=threads),
    )


def measure_one(model_dir: str | None, compute_type: str, threads: int) -> dict:
    from voices.asr.faster_whisper import FasterWhisperTranscriber
    from voices.audio_io import read_file_audio

    clips = {c: read_file_audio(AUDIO_DIR / c, max_duration_s=60, max_bytes=10**8) for c in CLIPS}
    started = time.perf_counter()
    asr = FasterWhisperTranscriber.from_settings(_settings(model_dir, compute_type, threads))
    load_s = time.perf_counter() - started
    asr.transcribe(clips["0-en.wav"])  # warm-up
    audio_s = decode_s = cpu_s = 0.0
    for audio in clips.values():
        started, cpu_started = time.perf_counter(), time.process_time()
        asr.transcribe(audio)
        decode_s += time.perf_counter() - started
        cpu_s += time.process_time() - cpu_started
        audio_s += audio.size / 16_000
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "model": model_dir or "whisper-base (embedded)",
        "compute_type": compute_type,
        "threads": threads,
        "load_s": round(load_s, 2),
        "rtf": round(decode_s / audio_s, 3),
        # CPU seconds per audio second over the threads: the wall RTF on otherwise idle cores
        "cpu_rtf": round(cpu_s / audio_s / max(threads, 1), 3),
        "audio_s": round(audio_s, 1),
        "peak_rss_mb": round(peak_mb),
    }


async def _stream_clip(asr, audio) -> dict:
    from voices.audio_io import float_to_pcm16
    from voices.streaming import AsyncStreamingRecognizer, StreamingRecognizer
    from voices.types import FinalTranscript, PartialTranscript, SpeechStarted
    from voices.vad import SileroVad

    probs = SileroVad().process(audio)
    voiced = [i for i, p in enumerate(probs) if p >= 0.5]
    lead = 0.5
    speech_start = lead + voiced[0] * 512 / 16_000
    speech_end = lead + (voiced[-1] + 1) * 512 / 16_000
    import numpy as np

    pcm = float_to_pcm16(
        np.concatenate(
            [np.zeros(int(lead * 16_000), np.float32), audio, np.zeros(32_000, np.float32)]
        )
    )
    rec = AsyncStreamingRecognizer(StreamingRecognizer(asr))
    marks: dict[str, float] = {}
    loop = asyncio.get_running_loop()

    async def consume() -> None:
        async for event in rec.events():
            now = loop.time()
            if isinstance(event, SpeechStarted):
                marks.setdefault("started", now)
            elif isinstance(event, PartialTranscript):
                marks.setdefault("partial", now)
            elif isinstance(event, FinalTranscript) and event.transcript.text:
                marks["final"] = now
                marks["decode"] = event.end_latency_s

    consumer = asyncio.create_task(consume())
    t0 = loop.time()
    frame = 640
    for n, i in enumerate(range(0, len(pcm), frame)):
        await rec.push(pcm[i : i + frame])
        delay = t0 + (n + 1) * 0.02 - loop.time()
        await asyncio.sleep(max(0.0, delay))
    await rec.aclose()
    await consumer
    nan = float("nan")  # a clip whose first partial arrived only after its final
    return {
        "speech_started_after_onset_s": marks["started"] - (t0 + speech_start),
        "first_partial_after_onset_s": marks.get("partial", nan) - (t0 + speech_start),
        "final_after_speech_end_s": marks["final"] - (t0 + speech_end),
        "final_decode_s": marks["decode"],
    }


def measure_streaming(threads: int) -> dict:
    from voices.asr.faster_whisper import FasterWhisperTranscriber
    from voices.audio_io import read_file_audio

    asr = FasterWhisperTranscriber.from_settings(_settings(None, "int8", threads))
    rows = []
    for clip in ["0-en.wav", "1-zh.wav", "2-zh-en.wav"]:
        audio = read_file_audio(AUDIO_DIR / clip, max_duration_s=60, max_bytes=10**8)
        row = asyncio.run(_stream_clip(asr, audio))
        row.update(_idle_core_estimates(asr, audio, threads))
        rows.append(row)
    return {key: round(statistics.median(r[key] for r in rows), 2) for key in rows[0]}


def _idle_core_estimates(asr, audio, threads: int) -> dict:
    """CPU seconds / threads of the work on the latency path: the wall time on idle cores.

    The synchronous recogniser runs with process CPU time as its clock, so the final's
    end_latency_s is the CPU time of the final decode; the first partial is 0.5 s of speech
    plus one provisional decode of it.
    """
    import numpy as np

    from voices.audio_io import float_to_pcm16
    from voices.streaming import StreamingRecognizer
    from voices.types import FinalTranscript

    pcm = float_to_pcm16(np.concatenate([audio, np.zeros(24_000, np.float32)]))
    rec = StreamingRecognizer(asr, clock=time.process_time)
    events = [e for i in range(0, len(pcm), 640) for e in rec.feed(pcm[i : i + 640])]
    final = next(e for e in events if isinstance(e, FinalTranscript))
    started = time.process_time()
    asr.transcribe(audio[:8_000], vad_gate=False, provisional=True)
    partial_cpu = time.process_time() - started
    return {
        "idle_first_partial_after_onset_s": 0.5 + partial_cpu / threads,
        "idle_final_after_speech_end_s": 0.7 + final.end_latency_s / threads,
    }


def load_average() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} / {five:.1f} (1 / 5 min) on {os.cpu_count()} CPUs"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model-dir")
    parser.add_argument("--compute-type")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure_one(args.model_dir, args.compute_type or "int8", args.threads)))
        return
    configs = (
        [(args.model_dir, args.compute_type)]
        if args.compute_type
        else [(args.model_dir, "int8"), (args.model_dir, "float32")]
    )
    print(load_average())
    print(
        f"{'model':28} {'compute':8} {'thr':>3} {'load s':>7} {'RTF':>6} {'CPU RTF':>8} "
        f"{'peak RSS MB':>12}"
    )
    for model_dir, compute in configs:
        cmd = [
            sys.executable,
            __file__,
            "--one",
            "--compute-type",
            compute,
            "--threads",
            str(args.threads),
        ] + (["--model-dir", model_dir] if model_dir else [])
        out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
        r = json.loads(out.strip().splitlines()[-1])
        print(
            f"{r['model']:28} {r['compute_type']:8} {r['threads']:>3} {r['load_s']:>7} "
            f"{r['rtf']:>6} {r['cpu_rtf']:>8} {r['peak_rss_mb']:>12}"
        )
    if args.model_dir is None:
        print("\nstreaming (Whisper base int8, real-time feed, median of 3 clips, seconds):")
        for key, value in measure_streaming(args.threads).items():
            print(f"  {key:32} {value}")
        print(load_average())


if __name__ == "__main__":
    main()
