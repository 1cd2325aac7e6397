"""File -> documents: PDF (pypdf), DOCX (python-docx), HTML (BeautifulSoup + lxml), Markdown,
plain text, and FAQ tables (CSV / JSONL, one document per row).

A document's id is its path relative to the folder given to ingest (posix slashes). An FAQ
row's id is its `id` column when present, else `<relative path>#q-<12 hex of the sha256 of its
normalised question>`: stable when other rows are added, removed or reordered (a row number
would renumber every row after a removed one); a repeated question gets `-2`, `-3`, ...
Every problem with a file becomes a `LoadError` whose message is the report line: `load_file`
turns any exception a parser raises into one, so one bad file never takes a batch down.

Hostile files: compressed formats (PDF streams, DOCX and other zip containers) are inflated
under `Limits` enforced while reading, in bytes and in ratio to the file's size; an HTML file
with more tags than `Limits.max_html_tags` is refused before a tree is built.
"""

from __future__ import annotations

import csv
import fnmatch
import hashlib
import io
import json
import re
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path

from charset_normalizer import from_bytes


class LoadError(ValueError):
    """A file that cannot become documents; the message says why, for the ingest report."""


@dataclass(frozen=True)
class Limits:
    """How far a compressed or deeply structured file may expand while it is read.

    `max_inflated_bytes`: all bytes one file may inflate to (PDF streams, zip members).
    `max_inflation_ratio`: inflated bytes per byte of file, checked once a file has inflated
    past `ratio_floor_bytes` (small files legitimately compress well; bombs are big).
    """

    max_inflated_bytes: int = 64 * 1024 * 1024
    max_inflation_ratio: float = 100.0
    ratio_floor_bytes: int = 4 * 1024 * 1024
    max_html_tags: int = 100_000
    max_pdf_pages: int = 2_000
    max_zip_members: int = 2_000

    def budget(self, file_bytes: int) -> int:
        """The most bytes a file of this size may inflate to."""
        by_ratio = int(max(file_bytes, 1) * self.max_inflation_ratio)
        return min(self.max_inflated_bytes, max(by_ratio, self.ratio_floor_bytes))

    def describe(self, file_bytes: int) -> str:
        return (
            f"{self.budget(file_bytes)} bytes (kb.max_inflated_bytes={self.max_inflated_bytes}, "
            f"kb.max_inflation_ratio={self.max_inflation_ratio:g})"
        )


DEFAULT_LIMITS = Limits()


@dataclass(frozen=True)
class Section:
    """Where a heading or page starts in the document's extracted text."""

    start: int
    label: str


@dataclass
class LoadedDocument:
    id: str
    source: str  # the file's relative path (an FAQ row's source is its table)
    title: str
    text: str
    content_hash: str
    sections: list[Section] = field(default_factory=list)
    url: str | None = None
    note: str | None = None  # e.g. the encoding a non-UTF-8 file was decoded from

    def section_at(self, offset: int) -> str | None:
        label = None
        for section in self.sections:
            if section.start > offset:
                break
            label = section.label
        return label


TEXT_SUFFIXES = {".md", ".markdown", ".txt", ".text", ".html", ".htm", ".csv", ".jsonl"}
SUFFIXES = TEXT_SUFFIXES | {".pdf", ".docx"}


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def decode_text(data: bytes) -> tuple[str, str | None]:
    """Bytes -> text. UTF-8 first; otherwise charset-normalizer's best guess (Big5, GB18030...).

    Returns the text and, when not UTF-8, the encoding used (shown in the report).
    NUL bytes mean binary content, which no text encoding makes sense of.
    """
    if b"\x00" in data[:8192] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise LoadError("binary content (NUL bytes) in a text file")
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError:
        pass
    best = from_bytes(data).best()
    if best is None or best.encoding is None:
        raise LoadError("not text in any encoding charset-normalizer knows")
    text = str(best)
    if _junk_ratio(text) > 0.05:
        raise LoadError(f"undecodable content (best guess {best.encoding} gives control bytes)")
    return text, best.encoding


def _junk_ratio(text: str) -> float:
    if not text:
        return 0.0
    junk = sum(1 for ch in text if (ord(ch) < 32 and ch not in "\t\n\r\f") or ch == "\ufffd")
    return junk / len(text)


# ---------------------------------------------------------------- one function per format


def _markdown(data: bytes, doc_id: str) -> list[LoadedDocument]:
    text, encoding = decode_text(data)
    url = None
    title = None
    front = re.match(r"\A---\s*\n(.*?)\n---\s*\n", text, re.S)
    if front:
        for line in front.group(1).splitlines():
            key, _, value = line.partition(":")
            if key.strip().lower() == "url":
                url = value.strip().strip("\"'") or None
            elif key.strip().lower() == "title":
                title = value.strip().strip("\"'") or None
        text = text[front.end() :]
    sections = [
        Section(m.start(), m.group(2).strip())
        for m in re.finditer(r"^(#{1,6})\s+(.+)$", text, re.M)
    ]
    if title is None and sections:
        title = sections[0].label
    return [_document(doc_id, doc_id, title, text, data, sections, url, encoding)]


def _plain(data: bytes, doc_id: str) -> list[LoadedDocument]:
    text, encoding = decode_text(data)
    first_line = next((line.strip() for line in text.splitlines() if line.strip()), None)
    return [_document(doc_id, doc_id, first_line, text, data, [], None, encoding)]


def _html(data: bytes, doc_id: str, limits: Limits) -> list[LoadedDocument]:
    from bs4 import BeautifulSoup

    text, encoding = decode_text(data)
    # a parse tree costs ~1 KB of memory per tag: count the tags before building one
    tags = text.count("<")
    if tags > limits.max_html_tags:
        raise LoadError(f"HTML with {tags} tags > kb.max_html_tags={limits.max_html_tags}")
    soup = BeautifulSoup(text, "lxml")
    canonical = soup.find("link", rel="canonical")
    url = canonical.get("href") if canonical else None
    title = soup.title.get_text(strip=True) if soup.title else None
    for tag in soup(["script", "style", "noscript", "template", "head"]):
        tag.decompose()
    parts: list[str] = []
    sections: list[Section] = []
    offset = 0
    blocks = soup.find_all(["h1", "h2", "h3", "h4", "p", "li", "td", "th", "dt", "dd", "pre"])
    for block in blocks:
        if block.find_parent(["p", "li", "td", "th", "dd", "pre"]):
            continue  # nested block: its text is already inside its parent's
        piece = block.get_text(" ", strip=True)
        if not piece:
            continue
        if block.name in {"h1", "h2", "h3", "h4"}:
            sections.append(Section(offset, piece))
        parts.append(piece)
        offset += len(piece) + 1
    body = "\n".join(parts) if parts else soup.get_text("\n", strip=True)
    if title is None and sections:
        title = sections[0].label
    return [_document(doc_id, doc_id, title, body, data, sections, url, encoding)]


# The inflation budget of the PDF being read in this thread (pypdf inflates lazily, page by
# page, so the budget must be charged where it inflates: see _install_pdf_budget).
_PDF_BUDGET: ContextVar[list[int] | None] = ContextVar("pdf_inflation_budget", default=None)


class _InflationLimit(Exception):
    pass


def _install_pdf_budget() -> None:
    """Wrap pypdf's stream decoders once so that every inflated byte is charged to the budget of
    the PDF being read (a contextvar: other threads and other callers are untouched).

    pypdf's own per-stream limits (set per file below) stop one huge stream; the budget stops
    many large ones, which together would cost minutes of CPU and the memory of the text.
    """
    from pypdf import filters

    if getattr(filters, "_samyu_budgeted", False):
        return

    def charged(decode: Callable[..., object]) -> Callable[..., object]:
        def wrapper(*args: object, **kwargs: object) -> object:
            budget = _PDF_BUDGET.get()
            try:
                result = decode(*args, **kwargs)
            except Exception as exc:
                if budget is not None and type(exc).__name__ == "LimitReachedError":
                    budget[1] = 1  # pypdf's text extraction swallows this: remember it
                raise
            if budget is not None and isinstance(result, bytes | bytearray):
                budget[0] -= len(result)
                if budget[0] < 0:
                    budget[1] = 1
                    raise _InflationLimit
            return result

        return wrapper

    filters.decompress = charged(filters.decompress)  # FlateDecode's inflater
    for name in ("LZWDecode", "RunLengthDecode", "ASCII85Decode", "ASCIIHexDecode"):
        decoder = getattr(filters, name, None)
        if decoder is not None and hasattr(decoder, "decode"):
            decoder.decode = staticmethod(charged(decoder.decode))
    filters._samyu_budgeted = True  # type: ignore[attr-defined]


@contextmanager
def _pdf_limits(budget: int, state: list[int]) -> Iterator[None]:
    """pypdf's per-stream limits lowered to this file's budget, and the budget installed."""
    import pypdf

    _install_pdf_budget()
    token = _PDF_BUDGET.set(state)
    apply = getattr(pypdf, "apply_configuration", None)
    try:
        if apply is None:  # pypdf < 6.? : module constants, process-wide
            from pypdf import filters

            filters.ZLIB_MAX_OUTPUT_LENGTH = budget
            yield
        else:
            names = (
                "zlib_maximum_output_length",
                "lzw_maximum_output_length",
                "run_length_maximum_output_length",
                "brotli_maximum_output_length",
                "jbig2_maximum_output_length",
                "array_based_stream_maximum_output_length",
                "stream_decoding_work_maximum_length",
                "image_maximum_buffer_size",
            )
            known = set(getattr(pypdf.Configuration, "__dataclass_fields__", {}))
            with apply(**{n: budget for n in names if n in known}):
                yield
    finally:
        _PDF_BUDGET.reset(token)


def _pdf(data: bytes, doc_id: str, limits: Limits) -> list[LoadedDocument]:
    from pypdf import PdfReader

    budget = limits.budget(len(data))
    state = [budget, 0]  # bytes left to inflate, 1 once a limit was reached
    pages: list[str] = []
    extracted = 0
    try:
        with _pdf_limits(budget, state):
            reader = PdfReader(io.BytesIO(data), strict=False)
            if len(reader.pages) > limits.max_pdf_pages:
                raise LoadError(
                    f"{len(reader.pages)} pages > kb.max_pdf_pages={limits.max_pdf_pages}"
                )
            for page in reader.pages:
                text = page.extract_text() or ""
                extracted += len(text)
                if state[1] or extracted > budget:
                    raise _InflationLimit
                pages.append(text)
            meta_title = reader.metadata.title if reader.metadata else None
            if state[1]:
                raise _InflationLimit
    except _InflationLimit:
        raise LoadError(f"PDF inflates past its limit of {limits.describe(len(data))}") from None
    except LoadError:
        raise
    except Exception as exc:  # pypdf raises many kinds, LimitReachedError among them
        if type(exc).__name__ == "LimitReachedError":
            raise LoadError(
                f"PDF inflates past its limit of {limits.describe(len(data))}"
            ) from None
        raise LoadError(f"corrupt PDF: {type(exc).__name__}: {exc}") from exc
    sections: list[Section] = []
    parts: list[str] = []
    offset = 0
    for number, page_text in enumerate(pages, start=1):
        sections.append(Section(offset, f"p. {number}"))
        parts.append(page_text)
        offset += len(page_text) + 1
    text = "\n".join(parts)
    title = meta_title or next((ln.strip() for ln in text.splitlines() if ln.strip()), None)
    return [_document(doc_id, doc_id, title, text, data, sections, None, None)]


def check_zip(data: bytes, limits: Limits, kind: str) -> None:
    """Refuse a zip container (DOCX, XLSX, ODT, EPUB...) that would inflate past its budget.

    The central directory's declared sizes are checked first (cheap), then every member is
    inflated in a stream with its bytes counted, because declared sizes can lie; nothing is
    kept, so memory stays at one read buffer whatever the member holds.
    """
    budget = limits.budget(len(data))
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise LoadError(f"corrupt {kind}: not a zip container ({exc})") from None
    with archive:
        members = archive.infolist()
        if len(members) > limits.max_zip_members:
            raise LoadError(
                f"{kind} holds {len(members)} parts > kb.max_zip_members={limits.max_zip_members}"
            )
        declared = sum(m.file_size for m in members)
        if declared > budget:
            raise LoadError(
                f"{kind} declares {declared} bytes inflated, over its limit of "
                f"{limits.describe(len(data))}"
            )
        inflated = 0
        for member in members:
            try:
                with archive.open(member) as stream:
                    while block := stream.read(1024 * 1024):
                        inflated += len(block)
                        if inflated > budget:
                            raise LoadError(
                                f"{kind} inflates past its limit of {limits.describe(len(data))}"
                            )
            except (zipfile.BadZipFile, zlib.error, OSError, EOFError, NotImplementedError) as exc:
                raise LoadError(f"corrupt {kind}: part {member.filename!r}: {exc}") from None


def _docx(data: bytes, doc_id: str, limits: Limits) -> list[LoadedDocument]:
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    check_zip(data, limits, "DOCX")
    try:
        document = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, ValueError, KeyError) as exc:
        raise LoadError(f"corrupt DOCX: {exc}") from exc
    except Exception as exc:  # zipfile.BadZipFile and lxml errors surface from inside docx
        raise LoadError(f"corrupt DOCX: {type(exc).__name__}: {exc}") from exc
    parts: list[str] = []
    sections: list[Section] = []
    offset = 0
    for paragraph in document.paragraphs:
        piece = paragraph.text.strip()
        if not piece:
            continue
        if paragraph.style is not None and paragraph.style.name.lower().startswith(
            ("heading", "title")
        ):
            sections.append(Section(offset, piece))
        parts.append(piece)
        offset += len(piece) + 1
    text = "\n".join(parts)
    title = document.core_properties.title or (sections[0].label if sections else None)
    return [_document(doc_id, doc_id, title, text, data, sections, None, None)]


def _faq_rows(
    rows: list[dict[str, str]], doc_id: str, encoding: str | None
) -> list[LoadedDocument]:
    documents = []
    taken: set[str] = set()
    for number, row in enumerate(rows, start=1):
        row = {
            str(k).strip().lower(): ("" if v is None else str(v)).strip() for k, v in row.items()
        }
        question, answer = row.get("question", ""), row.get("answer", "")
        if not question or not answer:
            raise LoadError(f"FAQ row {number} lacks a question or an answer")
        row_id = row.get("id") or _unique(f"{doc_id}#q-{question_key(question)}", taken)
        taken.add(row_id)
        text = f"{question}\n{answer}"
        raw = json.dumps(row, sort_keys=True, ensure_ascii=False).encode()
        documents.append(
            _document(
                row_id,
                doc_id,
                row.get("title") or question,
                text,
                raw,
                [],
                row.get("url") or None,
                encoding,
            )
        )
    return documents


def question_key(question: str) -> str:
    """12 hex of the sha256 of a question, case and spacing folded: an FAQ row's stable id."""
    folded = " ".join(question.casefold().split())
    return hashlib.sha256(folded.encode("utf-8")).hexdigest()[:12]


def _unique(row_id: str, taken: set[str]) -> str:
    candidate, n = row_id, 2
    while candidate in taken:
        candidate, n = f"{row_id}-{n}", n + 1
    return candidate


def _csv(data: bytes, doc_id: str, max_rows: int) -> list[LoadedDocument]:
    text, encoding = decode_text(data)
    try:
        reader = csv.DictReader(io.StringIO(text))
        columns = {c.strip().lower() for c in reader.fieldnames or []}
        if not {"question", "answer"} <= columns:
            raise LoadError("FAQ CSV needs 'question' and 'answer' columns")
        rows = _bounded(reader, max_rows)
    except csv.Error as exc:
        raise LoadError(f"malformed CSV: {exc}") from exc
    return _faq_rows(rows, doc_id, encoding)


def _jsonl(data: bytes, doc_id: str, max_rows: int) -> list[LoadedDocument]:
    text, encoding = decode_text(data)
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise LoadError(f"line {number} is not JSON: {exc.msg}") from exc
        if not isinstance(row, dict):
            raise LoadError(f"line {number} is not a JSON object")
        rows.append(row)
    return _faq_rows(_bounded(iter(rows), max_rows), doc_id, encoding)


def _bounded(rows, max_rows: int) -> list[dict]:
    out = []
    for row in rows:
        if len(out) >= max_rows:
            raise LoadError(f"more than {max_rows} FAQ rows (kb.max_faq_rows)")
        out.append(row)
    return out


def _document(
    doc_id: str,
    source: str,
    title: str | None,
    text: str,
    raw: bytes,
    sections: list[Section],
    url: str | None,
    encoding: str | None,
) -> LoadedDocument:
    return LoadedDocument(
        id=doc_id,
        source=source,
        title=(title or Path(source).stem)[:300],
        text=text,
        content_hash=sha256_bytes(raw),
        sections=sections,
        url=url,
        note=f"decoded from {encoding}" if encoding else None,
    )


_SIMPLE: dict[str, Callable[[bytes, str], list[LoadedDocument]]] = {
    ".md": _markdown,
    ".markdown": _markdown,
    ".txt": _plain,
    ".text": _plain,
}
_LIMITED: dict[str, Callable[[bytes, str, Limits], list[LoadedDocument]]] = {
    ".html": _html,
    ".htm": _html,
    ".pdf": _pdf,
    ".docx": _docx,
}


def load_file(
    path: Path,
    doc_id: str,
    *,
    max_bytes: int,
    max_faq_rows: int,
    limits: Limits = DEFAULT_LIMITS,
) -> list[LoadedDocument]:
    """Read one file into documents, or raise LoadError with the reason (never anything else:
    whatever a parser raises on a hostile or broken file becomes that file's report line)."""
    try:
        return _load_file(path, doc_id, max_bytes, max_faq_rows, limits)
    except LoadError:
        raise
    except FileNotFoundError:
        raise LoadError("file not found") from None
    except MemoryError:
        raise LoadError("file needs more memory than the server can give it") from None
    except RecursionError:
        raise LoadError("file nested too deeply to read") from None
    except Exception as exc:
        raise LoadError(
            f"unreadable {path.suffix.lower()} file: {type(exc).__name__}: {exc}"
        ) from exc


def _load_file(
    path: Path, doc_id: str, max_bytes: int, max_faq_rows: int, limits: Limits
) -> list[LoadedDocument]:
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise LoadError(f"unsupported file type {suffix or '(no extension)'!r}")
    size = path.stat().st_size
    if size > max_bytes:
        raise LoadError(f"over the size limit ({size} bytes > kb.max_file_bytes={max_bytes})")
    if size == 0:
        raise LoadError("empty file")
    data = path.read_bytes()
    if suffix == ".csv":
        documents = _csv(data, doc_id, max_faq_rows)
    elif suffix == ".jsonl":
        documents = _jsonl(data, doc_id, max_faq_rows)
    elif suffix in _LIMITED:
        documents = _LIMITED[suffix](data, doc_id, limits)
    else:
        documents = _SIMPLE[suffix](data, doc_id)
    if not documents or all(not d.text.strip() for d in documents):
        raise LoadError("no text in file (empty, or a scanned PDF without a text layer)")
    return documents


IGNORE_FILE = ".kbignore"


def _ignored(folder: Path) -> list[str]:
    """Glob patterns (one a line, '#' comments) of a folder's `.kbignore`, like .gitignore."""
    path = folder / IGNORE_FILE
    if not path.is_file():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def discover(paths: list[Path]) -> list[tuple[Path, str]]:
    """Files under the given paths with their document ids (path relative to the given folder).

    Hidden files and folders are skipped, and so are files matching the given folder's
    `.kbignore` patterns (e.g. a README or the question file that sits beside a corpus); a file
    given directly is named by its file name.
    """
    found: list[tuple[Path, str]] = []
    for given in paths:
        if given.is_dir():
            patterns = _ignored(given)
            for path in sorted(given.rglob("*")):
                relative = path.relative_to(given)
                if any(p.startswith(".") for p in relative.parts) or not path.is_file():
                    continue
                if any(fnmatch.fnmatch(relative.as_posix(), pat) for pat in patterns):
                    continue
                found.append((path, relative.as_posix()))
        else:
            found.append((given, given.name))
    return found
