"""Voice-to-voice for a Cantonese caller: widget Auto mode against the caller selecting 廣東話.

Real Cantonese clips (the natural ones: bench/data/speech yeung, the shared fixture yue.wav)
sent push-to-talk over /ws/talk to a real `samyu serve` on loopback, once with
language=auto and once with language=yue, each turn in a fresh session. Printed per turn:
voice-to-voice (client clock: end of speech -> first answer audio byte), the server's stage
timings, the transcript (HK Traditional means it was labelled yue) and the start of the answer.

    PYTHONPATH=. .venv/bin/python bench/voices_cantonese_v2v.py [--repeat 1]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from server_common import AUDIO, machine, running_server

from serving.loadtest import Caller, load_pcm16

_STAGES = ("asr", "retrieval", "first_token", "first_audio", "voice_to_voice", "total")
CLIPS = [
    Path(__file__).resolve().parent / "data" / "speech" / "clips" / "yue-sppas-yeung.flac",
    AUDIO / "yue.wav",
]


async def turn(url: str, clip: Path, language: str):
    async with Caller(url, collection="speech", language=language) as caller:
        return await caller.spoken_turn(load_pcm16(clip))


def _p50(values: list[float]) -> str:
    return f"{statistics.median(values):.0f} ms" if values else "-"


async def main(args: argparse.Namespace) -> None:
    print(f"# {machine()}")
    v2v: dict[str, list[float]] = {"auto": [], "yue": []}
    stages: dict[str, dict[str, list[float]]] = {"auto": {}, "yue": {}}
    with running_server() as server:
        for clip in CLIPS:
            if not clip.exists():
                print(f"{clip.name}: missing, skipped")
                continue
            for _ in range(args.repeat):
                for language in ("auto", "yue"):
                    result = await turn(server.ws_url, clip, language)
                    timings = {k: round(v) for k, v in result.server_timings.items()}
                    if result.voice_to_voice_ms is not None and not result.errors:
                        v2v[language].append(result.voice_to_voice_ms)
                    for name, value in timings.items():
                        stages[language].setdefault(name, []).append(value)
                    print(
                        f"{clip.name:24} {language:4} v2v {result.voice_to_voice_ms or -1:7.0f} ms"
                        f"  load {os.getloadavg()[0]:.1f}  heard {result.transcript!r}"
                        f"  answer {result.answer[:40]!r}  server {timings}"
                        + (f"  errors {result.errors}" if result.errors else ""),
                        flush=True,
                    )
    for language, values in v2v.items():
        by_stage = {k: _p50(v) for k, v in stages[language].items() if k in _STAGES}
        print(
            f"{language:4} voice-to-voice p50 {_p50(values)} over {len(values)} turns  "
            f"server p50 {by_stage}  load {os.getloadavg()}"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=1)
    asyncio.run(main(parser.parse_args()))
