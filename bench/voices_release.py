"""Push-to-talk release -> final transcript, with a partial often still decoding at the release.

Real Whisper base and Silero VAD, the real-speech fixture 0-en.wav (auto language, as the
widget sends it) fed in real time in 20 ms frames through `AsyncStreamingRecognizer` (as
/ws/talk does), cut at several points, then `--tail-ms` of silence and the release. For each
configuration: the final's time after the release (`Utterance.end_latency_s`) and what the
decoder was doing at the release (a partial, the pause's decode, nothing).

    flock /work/notes/cpu.lock .venv/bin/python bench/voices_release.py [--cuts 3.5 4 ...]

Configurations (one model, settings switched between trials, the order interleaved):
  old        stop_partials_for_finals off, reuse_encoder_output off (the code before)
  stop       a partial stops at its next encoder checkpoint when the utterance ends
  stop+reuse and the language-id window is not encoded twice (the default now)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from voices.asr.faster_whisper import FasterWhisperTranscriber  # noqa: E402
from voices.audio_io import float_to_pcm16, read_file_audio  # noqa: E402
from voices.config import VoiceSettings  # noqa: E402
from voices.streaming import AsyncStreamingRecognizer, StreamingRecognizer  # noqa: E402
from voices.types import PIPELINE_SAMPLE_RATE, PartialTranscript, Utterance  # noqa: E402
from voices.vad import shared_vad_model  # noqa: E402

CLIP = ROOT.parent / "shared" / "fixtures" / "audio" / "0-en.wav"
CONFIGS = {
    "old": {"stop": False, "reuse": False},
    "stop": {"stop": True, "reuse": False},
    "stop+reuse": {"stop": True, "reuse": True},
}
FRAME = PIPELINE_SAMPLE_RATE // 50  # 20 ms


async def one_turn(
    transcriber: FasterWhisperTranscriber, settings: VoiceSettings, pcm: bytes, stop: bool
) -> dict:
    streaming = settings.streaming.model_copy(update={"stop_partials_for_finals": stop})
    core = StreamingRecognizer(
        transcriber,
        streaming=streaming,
        vad=settings.vad,
        vad_model=shared_vad_model(),
        endpointing=False,
    )
    rec = AsyncStreamingRecognizer(core)
    result: dict = {"partials": 0}

    async def consume() -> None:
        async for event in rec.events():
            if isinstance(event, PartialTranscript) and event.candidate is None:
                result["partials"] += 1
            if isinstance(event, Utterance):
                result["wall_s"] = time.perf_counter() - result["released"]
                result["end_latency_s"] = event.end_latency_s
                result["text"] = event.transcript.text
                await rec.cancel()

    consumer = asyncio.create_task(consume())
    start = time.perf_counter()
    step = FRAME * 2
    for i in range(0, len(pcm), step):
        rec.accept(pcm[i : i + step])
        # real time: the next frame is due when its audio would have been spoken
        due = start + (i + step) / 2 / PIPELINE_SAMPLE_RATE
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
    result["busy"] = core._busy or "idle"
    result["released"] = time.perf_counter()
    rec.mark_end_of_speech()
    await asyncio.wait_for(consumer, 60)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cuts", type=float, nargs="+", default=[3.5, 4.0, 4.5, 5.0, 5.5, 6.6])
    parser.add_argument("--tail-ms", type=int, default=300)
    parser.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=list(CONFIGS))
    args = parser.parse_args()
    print(f"# load average before: {os.getloadavg()}")
    settings = VoiceSettings()
    transcriber = FasterWhisperTranscriber.from_settings(settings, vad_model=shared_vad_model())
    audio = read_file_audio(CLIP, max_duration_s=60, max_bytes=10_000_000)
    transcriber.transcribe(audio)  # warm-up
    rows: dict[str, list[dict]] = {name: [] for name in args.configs}
    silence = b"\x00\x00" * (PIPELINE_SAMPLE_RATE * args.tail_ms // 1000)
    for cut in args.cuts:
        pcm = float_to_pcm16(audio[: int(cut * PIPELINE_SAMPLE_RATE)]) + silence
        for name in args.configs:
            config = CONFIGS[name]
            transcriber.asr = settings.asr.model_copy(
                update={"reuse_encoder_output": config["reuse"]}
            )
            row = asyncio.run(one_turn(transcriber, settings, pcm, config["stop"]))
            row["cut"] = cut
            rows[name].append(row)
            print(
                f"cut {cut:4.1f} s  {name:10s}  at release: {row['busy']:17s} "
                f"final {row['end_latency_s']:.2f} s after it (wall {row['wall_s']:.2f})  "
                f"partials {row['partials']}  {row['text'][:50]!r}",
                flush=True,
            )
    print(f"# load average after: {os.getloadavg()}")
    print("| config | final after release p50 / max | with a partial in flight: n, mean |")
    print("|---|---|---|")
    for name, items in rows.items():
        latencies = [r["end_latency_s"] for r in items]
        busy = [r["end_latency_s"] for r in items if r["busy"] == "partial"]
        mean_busy = f"{statistics.mean(busy):.2f} s" if busy else "-"
        print(
            f"| {name} | {statistics.median(latencies):.2f} / {max(latencies):.2f} s | "
            f"{len(busy)}, {mean_busy} |"
        )


if __name__ == "__main__":
    main()
