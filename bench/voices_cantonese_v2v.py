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
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from server_common import AUDIO, machine, running_server

from serving.loadtest import Caller, load_pcm16

CLIPS = [
    Path(__file__).resolve().parent / "data" / "speech" / "clips" / "yue-sppas-yeung.flac",
    AUDIO / "yue.wav",
]


async def turn(url: str, clip: Path, language: str):
    async with Caller(url, collection="speech", language=language) as caller:
        return await caller.spoken_turn(load_pcm16(clip))


async def main(args: argparse.Namespace) -> None:
    print(f"# {machine()}")
    with running_server() as server:
        for clip in CLIPS:
            if not clip.exists():
                print(f"{clip.name}: missing, skipped")
                continue
            for _ in range(args.repeat):
                for language in ("auto", "yue"):
                    result = await turn(server.ws_url, clip, language)
                    timings = {k: round(v) for k, v in result.server_timings.items()}
                    print(
                        f"{clip.name:24} {language:4} v2v {result.voice_to_voice_ms or -1:7.0f} ms"
                        f"  load {os.getloadavg()[0]:.1f}  heard {result.transcript!r}"
                        f"  answer {result.answer[:40]!r}  server {timings}"
                        + (f"  errors {result.errors}" if result.errors else ""),
                        flush=True,
                    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=1)
    asyncio.run(main(parser.parse_args()))
