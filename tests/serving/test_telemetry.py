"""No library telemetry: onnxruntime's store is never opened by the server's code paths."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[2]
PROBE = """
import os, sys
{imports}
from voices.vad import SileroVadModel
model = SileroVadModel()
open_files = []
for fd in os.listdir("/proc/self/fd"):
    try:
        open_files.append(os.readlink(f"/proc/self/fd/{{fd}}"))
    except OSError:
        pass
print([f for f in open_files if "onnxruntime" in f])
"""


def _probe(home: Path, imports: str, **env: str) -> tuple[str, list[Path]]:
    # onnxruntime also stays quiet when CI is set (as it is on the CI machine): dropped, so the
    # probe sees what a server started by an operator would do
    clean = {k: v for k, v in os.environ.items() if k not in ("ORT_DISABLE_TELEMETRY", "CI")}
    result = subprocess.run(
        [sys.executable, "-c", PROBE.format(imports=imports)],
        env={**clean, "HOME": str(home), "XDG_CACHE_HOME": str(home / ".cache"), **env},
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return result.stdout.strip(), sorted(home.rglob("onnxruntime.db*"))


@pytest.mark.parametrize("imports", ["import serving", ""])
def test_the_vad_session_opens_no_telemetry_store(tmp_path: Path, imports: str) -> None:
    """Through the server package, and through voices alone (the CLI's transcribe path)."""
    opened, files = _probe(tmp_path, imports)
    assert opened == "[]" and files == []


def test_the_probe_would_see_the_store_if_telemetry_were_on(tmp_path: Path) -> None:
    """The check above can fail: with the switch forced off, onnxruntime writes its store."""
    opened, files = _probe(tmp_path, "", ORT_DISABLE_TELEMETRY="0")
    assert "onnxruntime.db" in opened or files, (opened, files)
