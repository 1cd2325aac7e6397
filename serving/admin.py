"""The admin API (`/admin/...`): departments load documents, operators tune and measure.

Every route needs a bearer token from `server.admin_tokens` (401 without one); a token limited
to some collections gets 403 for the others. The knowledge base does the work; this module
only maps HTTP onto it, running its blocking calls in worker threads.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import uuid
from pathlib import Path, PurePath
from typing import Annotated, Any

from fastapi import APIRouter, File, HTTPException, Request, UploadFile, status
from fastapi import Path as PathParam
from pydantic import BaseModel, Field, ValidationError

from knowledge_base.collection import Collection, CollectionError
from knowledge_base.config import RetrievalSettings
from knowledge_base.evaluation import Question, evaluate
from knowledge_base.types import Hit, QueryOptions
from serving.auth import AdminAuth, may_see, require_collection

router = APIRouter(prefix="/admin", tags=["admin"])

CollectionName = Annotated[str, PathParam(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]
_SAFE_NAME = re.compile(r"[^\w.\- ]+", re.UNICODE)
_COPY_CHUNK = 1024 * 1024


def _collection(request: Request, token: Any, name: str) -> Collection:
    require_collection(token, name)
    try:
        return request.app.state.runtime.kb.collection(name)
    except CollectionError as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(exc)) from None


def _existing(request: Request, token: Any, name: str) -> Collection:
    collection = _collection(request, token, name)
    if collection.live_version() is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no collection named {name!r}")
    return collection


# ---- collections and documents --------------------------------------------------------


@router.get("/collections", summary="Collections this token may use")
def list_collections(request: Request, token: AdminAuth) -> dict[str, list[str]]:
    names = request.app.state.runtime.kb.collections()
    return {"collections": [n for n in names if may_see(token, n)]}


@router.get("/collections/{name}/documents", summary="Documents of a collection")
def list_documents(request: Request, token: AdminAuth, name: CollectionName) -> dict[str, Any]:
    collection = _existing(request, token, name)
    documents = [d.__dict__ for d in collection.documents()]
    return {"collection": name, "count": len(documents), "documents": documents}


@router.delete(
    "/collections/{name}/documents/{doc_id:path}", summary="Delete one document by its id"
)
async def delete_document(
    request: Request, token: AdminAuth, name: CollectionName, doc_id: str
) -> dict[str, str]:
    collection = _existing(request, token, name)
    try:
        await asyncio.to_thread(collection.delete, doc_id)
    except CollectionError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None
    return {"deleted": doc_id, "version": collection.live_version() or ""}


@router.post(
    "/collections/{name}/documents",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Upload documents; they are ingested in the background (poll the job)",
)
async def upload_documents(
    request: Request,
    token: AdminAuth,
    name: CollectionName,
    files: Annotated[list[UploadFile], File(description="PDF, DOCX, HTML, MD, TXT, CSV, JSONL")],
) -> dict[str, Any]:
    collection = _collection(request, token, name)
    runtime = request.app.state.runtime
    limit = runtime.settings.server.max_upload_bytes
    folder = runtime.settings.home / "uploads" / uuid.uuid4().hex
    folder.mkdir(parents=True)
    try:
        names = await _save_uploads(files, folder, limit)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    job = runtime.jobs.submit(collection, folder, names)
    return {
        "job_id": job.id,
        "status": job.status,
        "files": names,
        "poll": str(request.url_for("job_status", job_id=job.id)),
    }


async def _save_uploads(files: list[UploadFile], folder: Path, limit: int) -> list[str]:
    total, names = 0, []
    for upload in files:
        name = _safe_filename(upload.filename or "upload.txt", taken=set(names))
        with (folder / name).open("wb") as out:
            while chunk := await upload.read(_COPY_CHUNK):
                total += len(chunk)
                if total > limit:
                    raise HTTPException(
                        status.HTTP_413_CONTENT_TOO_LARGE,
                        f"upload larger than server.max_upload_bytes={limit}",
                    )
                out.write(chunk)
        names.append(name)
    if not names:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "no files in the upload")
    return names


def _safe_filename(raw: str, taken: set[str]) -> str:
    """The base name only (no directories: no path traversal), cleaned, made unique."""
    base = _SAFE_NAME.sub("_", PurePath(raw.replace("\\", "/")).name).strip(" .") or "upload"
    base = _fit_name(base)
    name, n = base, 1
    while name in taken:
        stem, dot, ext = base.rpartition(".")
        name = f"{stem}-{n}.{ext}" if dot else f"{base}-{n}"
        n += 1
    return name


_MAX_NAME_BYTES = 200  # file systems allow 255 bytes; room left for "-n" suffixes


def _fit_name(name: str) -> str:
    """The name, or 400 when it is too long to store (a document's id is its file name, so
    it is refused with a clear reason rather than silently cut)."""
    size = len(name.encode())
    if size > _MAX_NAME_BYTES:
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST,
            f"file name of {size} bytes; at most {_MAX_NAME_BYTES} bytes (UTF-8): {name[:40]}...",
        )
    return name


@router.get("/jobs/{job_id}", name="job_status", summary="Progress of an ingest job")
def job_status(request: Request, token: AdminAuth, job_id: str) -> dict[str, Any]:
    job = request.app.state.runtime.jobs.get(job_id)
    if job is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no job {job_id!r}")
    require_collection(token, job.collection)
    return job.as_dict()


# ---- retrieval: query with explain, eval, settings ---------------------------------------


class QueryRequest(BaseModel):
    query: str = Field(min_length=1, max_length=10_000)
    k: int | None = Field(default=None, ge=1, le=100)
    explain: bool = False
    options: dict[str, Any] = Field(
        default_factory=dict, description="Per-query overrides of retrieval settings."
    )


def _hit(hit: Hit, explain: bool) -> dict[str, Any]:
    chunk = hit.chunk
    out: dict[str, Any] = {
        "doc_id": chunk.doc_id,
        "chunk_id": chunk.id,
        "title": chunk.title,
        "section": chunk.section,
        "url": chunk.url,
        "language": chunk.language,
        "score": hit.score,
        "text": chunk.text,
    }
    if explain:
        out["explain"] = {
            "fused": hit.score,
            "dense_score": hit.dense_score,
            "dense_rank": hit.dense_rank,
            "bm25_score": hit.bm25_score,
            "bm25_rank": hit.bm25_rank,
            "rerank_score": hit.rerank_score,
        }
    return out


@router.post("/collections/{name}/query", summary="Retrieve, optionally with score explanations")
async def query(
    request: Request, token: AdminAuth, name: CollectionName, body: QueryRequest
) -> dict[str, Any]:
    collection = _existing(request, token, name)
    options = QueryOptions(k=body.k, extra=body.options)
    try:
        hits = await asyncio.to_thread(collection.retriever().retrieve, body.query, options)
    except (ValueError, ValidationError) as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
    return {"query": body.query, "hits": [_hit(h, body.explain) for h in hits]}


class EvalQuestion(BaseModel):
    query: str = Field(min_length=1)
    relevant: list[str] = Field(min_length=1)
    language: str = "unknown"


class EvalRequest(BaseModel):
    questions: list[EvalQuestion] = Field(min_length=1, max_length=5000)


@router.post("/collections/{name}/eval", summary="recall@1/5/10, MRR, nDCG@10 on questions")
async def run_eval(
    request: Request, token: AdminAuth, name: CollectionName, body: EvalRequest
) -> dict[str, Any]:
    collection = _existing(request, token, name)
    retriever = collection.retriever()
    questions = [Question(q.query, frozenset(q.relevant), q.language) for q in body.questions]
    report = await asyncio.to_thread(
        evaluate, lambda text: retriever.retrieve(text, QueryOptions(k=10)), questions
    )
    return {**report.as_dict(), "count": len(questions)}


@router.get("/collections/{name}/settings", summary="The collection's retrieval settings")
def read_settings(request: Request, token: AdminAuth, name: CollectionName) -> RetrievalSettings:
    return _collection(request, token, name).settings


@router.patch(
    "/collections/{name}/settings",
    summary="Change retrieval settings (index-time ones rebuild the index)",
)
async def change_settings(
    request: Request, token: AdminAuth, name: CollectionName, changes: dict[str, Any]
) -> RetrievalSettings:
    collection = _collection(request, token, name)
    unknown = set(changes) - set(RetrievalSettings.model_fields)
    if unknown:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, f"unknown settings: {sorted(unknown)}"
        )
    try:
        return await asyncio.to_thread(collection.update_settings, **changes)
    except ValidationError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
