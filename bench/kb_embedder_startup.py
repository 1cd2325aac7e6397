"""Start-up of the int8 EmbeddingGemma embedder: seconds from a fresh process to a ready
embedder, and the part of it spent checking the model files (sha256 of ~1.5 GB, or the
size/mtime/ctime stamps when nothing changed). Each run is a new process; files are in the page
cache after the first run, so the figures are hashing (CPU), not disk reads.

    .venv/bin/python bench/kb_embedder_startup.py [--runs 3] [--tree DIR]

--tree runs another checkout's code (e.g. an export of the previous commit) for a before/after.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = """
import json, time
from knowledge_base import KnowledgeBaseSettings
from knowledge_base.embedders import get_embedder, gemma_assets, gemma_onnx
settings = KnowledgeBaseSettings(embed_cache=False)
start = time.perf_counter()
gemma_assets.model_dir(settings.model_cache)
gemma_onnx.verify(gemma_onnx.onnx_dir(settings.model_cache))
checked = time.perf_counter() - start
gemma_assets._verified.clear()  # the embedder checks again, as a fresh process would
start = time.perf_counter()
embedder = get_embedder(settings, "embeddinggemma-int8")
ready = time.perf_counter() - start
print(json.dumps({"check_s": checked, "ready_s": ready, "name": embedder.name}))
"""


def one_run(tree: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": str(tree), "HF_HUB_OFFLINE": "1"}
    out = subprocess.run(
        [sys.executable, "-c", CHILD],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--tree", type=Path, default=ROOT)
    args = parser.parse_args()
    print(f"code: {args.tree}; load average at start: {os.getloadavg()} on {os.cpu_count()} cores")
    runs = []
    for n in range(args.runs):
        run = one_run(args.tree.resolve())
        runs.append(run)
        print(
            f"run {n + 1}: file check {run['check_s']:.2f} s, embedder ready "
            f"{run['ready_s']:.2f} s ({run['name']}); load {os.getloadavg()[0]:.2f}"
        )
    later = runs[1:] or runs
    print(
        f"median of runs 2..{len(runs)}: file check "
        f"{statistics.median(r['check_s'] for r in later):.2f} s, embedder ready "
        f"{statistics.median(r['ready_s'] for r in later):.2f} s; "
        f"load average at end: {os.getloadavg()}"
    )


if __name__ == "__main__":
    main()
