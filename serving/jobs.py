"""Background ingest jobs of the admin API: upload now, ingest in a worker thread, poll status.

Jobs run one at a time per collection (the knowledge base allows one writer per collection);
the registry remembers the last `max_kept` finished jobs for polling.

An accepted upload is never lost. Each job is recorded in `SAMYU_HOME/jobs/<id>.json`
(written atomically on every change of status) beside its spooled files in
`SAMYU_HOME/uploads/<folder>/`, and the process running it holds an flock on
`jobs/<id>.lock`. After a crash (kill -9, power loss) the next server start finds the job
unfinished and its lock free: it runs the job again (ingest is incremental, so files already
ingested come out `unchanged`), or, if its spooled files are gone, reports it failed with
that reason. The spool is removed when a job ends; job records older than
`job_retention_s` and upload folders no job owns older than `upload_retention_s` are deleted
at start-up.
"""

from __future__ import annotations

import asyncio
import fcntl
import json
import logging
import os
import shutil
import time
import uuid
from collections import OrderedDict
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import IO, Any, Literal

from knowledge_base.collection import Collection

log = logging.getLogger("samyu.jobs")
# done: every file loaded; partial: some files failed (reasons in `failures`); failed: every
# file failed, or the ingest itself did (reason in `error`)
JobStatus = Literal["queued", "running", "done", "partial", "failed"]


@dataclass
class IngestJob:
    id: str
    collection: str
    files: list[str]
    status: JobStatus = "queued"
    files_done: int = 0
    files_total: int = 0
    current: str = ""
    created: float = field(default_factory=time.time)
    finished: float | None = None
    report: dict[str, Any] | None = None
    error: str | None = None
    folder: str = ""  # the spooled upload (absolute path)
    restarts: int = 0  # times a server restart resumed this job
    failures: list[str] = field(default_factory=list)  # "file: reason", one per failed file
    sync: bool = False  # files of the collection not in this upload are removed

    def progress(self, done: int, total: int, current: str) -> None:
        """Called from the ingest thread; plain attribute writes are atomic enough to poll."""
        self.files_done, self.files_total, self.current = done, total, current

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("folder")  # a server path: not the caller's business
        out["progress"] = round(self.files_done / self.files_total, 3) if self.files_total else 0.0
        return out

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> IngestJob:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in record.items() if k in known})


class JobRegistry:
    def __init__(
        self,
        max_kept: int = 100,
        on_finish: Any = None,
        *,
        store: Path | None = None,
        uploads: Path | None = None,
        job_retention_s: float = 7 * 24 * 3600.0,
        upload_retention_s: float = 24 * 3600.0,
    ) -> None:
        self.max_kept = max_kept
        self._jobs: OrderedDict[str, IngestJob] = OrderedDict()
        self._locks: dict[str, asyncio.Lock] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._on_finish = on_finish
        self.store = store  # None: jobs live in memory only (tests of other things)
        self.uploads = uploads
        self.job_retention_s = job_retention_s
        self.upload_retention_s = upload_retention_s
        self._held: dict[str, IO[str]] = {}  # job id -> its open, flocked lock file

    def get(self, job_id: str) -> IngestJob | None:
        return self._jobs.get(job_id)

    def submit(
        self, collection: Collection, folder: Path, files: list[str], *, sync: bool = False
    ) -> IngestJob:
        job = IngestJob(
            id=uuid.uuid4().hex,
            collection=collection.name,
            files=files,
            folder=str(folder),
            sync=sync,
        )
        self._claim(job.id)
        self._save(job)
        self._start(job, collection, folder)
        return job

    def _start(self, job: IngestJob, collection: Collection, folder: Path) -> None:
        self._jobs[job.id] = job
        self._forget_old()
        task = asyncio.create_task(self._run(job, collection, folder), name=f"ingest-{job.id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, job: IngestJob, collection: Collection, folder: Path) -> None:
        lock = self._locks.setdefault(job.collection, asyncio.Lock())
        interrupted = False
        try:
            async with lock:
                job.status = "running"
                self._save(job)
                report = await asyncio.to_thread(
                    collection.ingest, [folder], sync=job.sync, progress=job.progress
                )
                job.report = {
                    "version": report.version,
                    "seconds": round(report.seconds, 3),
                    "chunks_embedded": report.chunks_embedded,
                    "files": [asdict(f) for f in report.files],
                    "quarantined": report.quarantined,
                    "disagreements": [d.as_dict() for d in report.disagreements],
                }
                job.failures = report.failures()
                job.status = report.outcome
                if job.status == "failed":
                    job.error = "no file could be loaded: " + "; ".join(job.failures)
        except asyncio.CancelledError:
            # the server is stopping: keep the spool and the record, the next start resumes
            interrupted = True
            job.status = "queued"
            self._save(job)
            raise
        except Exception as exc:  # reported to the poller, never raised into the loop
            log.exception("ingest job %s failed", job.id)
            job.status, job.error = "failed", f"{type(exc).__name__}: {exc}"
        finally:
            if not interrupted:
                job.finished = time.time()
                self._save(job)
                shutil.rmtree(folder, ignore_errors=True)
                self._release(job.id)
                if self._on_finish:
                    self._on_finish(job)

    def _forget_old(self) -> None:
        finished = [j.id for j in self._jobs.values() if j.finished is not None]
        for job_id in finished[: max(0, len(finished) - self.max_kept)]:
            del self._jobs[job_id]

    async def drain(self, timeout: float = 30.0) -> None:
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=timeout)

    # ---- persistence -------------------------------------------------------------------

    def recover(self, collection_of: Any) -> list[IngestJob]:
        """At start-up: resume unfinished jobs whose owner died, report those whose spool is
        gone, load finished ones for polling, and apply the retention limits.

        `collection_of(name)` gives the Collection a job ingests into. Returns the jobs resumed.
        """
        if self.store is None or not self.store.is_dir():
            self._clean_orphan_uploads(set())
            return []
        now = time.time()
        resumed: list[IngestJob] = []
        owned: set[str] = set()
        records = sorted(self.store.glob("*.json"), key=lambda p: p.stat().st_mtime)
        for path in records:
            try:
                job = IngestJob.from_record(json.loads(path.read_text(encoding="utf-8")))
            except (OSError, ValueError, TypeError) as exc:
                log.warning("unreadable job record %s (%s): removed", path.name, exc)
                path.unlink(missing_ok=True)
                continue
            if job.folder:
                owned.add(Path(job.folder).name)
            if job.finished is not None:
                if now - job.finished > self.job_retention_s:
                    path.unlink(missing_ok=True)
                    (self.store / f"{job.id}.lock").unlink(missing_ok=True)
                    continue
                self._jobs[job.id] = job
                continue
            if not self._try_claim(job.id):
                continue  # another live server process runs it
            folder = Path(job.folder)
            if not folder.is_dir():
                job.status, job.finished = "failed", now
                job.error = "the server stopped before this job ran, and its spooled files are gone"
                self._save(job)
                self._release(job.id)
                self._jobs[job.id] = job
                continue
            job.status, job.restarts = "queued", job.restarts + 1
            job.files_done = job.files_total = 0
            log.info("resuming ingest job %s (%d files) after a restart", job.id, len(job.files))
            self._save(job)
            self._start(job, collection_of(job.collection), folder)
            resumed.append(job)
        self._forget_old()
        self._clean_orphan_uploads(owned)
        return resumed

    def _clean_orphan_uploads(self, owned: set[str]) -> None:
        if self.uploads is None or not self.uploads.is_dir():
            return
        now = time.time()
        for folder in self.uploads.iterdir():
            if folder.name in owned:
                continue
            try:
                age = now - folder.stat().st_mtime
            except FileNotFoundError:
                continue
            if age > self.upload_retention_s:
                log.info("removing upload %s that no job owns (%.0f s old)", folder.name, age)
                shutil.rmtree(folder, ignore_errors=True)

    def _save(self, job: IngestJob) -> None:
        if self.store is None:
            return
        self.store.mkdir(parents=True, exist_ok=True)
        path = self.store / f"{job.id}.json"
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        with temporary.open("w", encoding="utf-8") as fh:
            json.dump(asdict(job), fh, ensure_ascii=False)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(temporary, path)

    def _claim(self, job_id: str) -> None:
        if self.store is not None and not self._try_claim(job_id):
            raise RuntimeError(f"job {job_id} is locked by another process")

    def _try_claim(self, job_id: str) -> bool:
        """Take the job's flock (released by the kernel when this process dies)."""
        assert self.store is not None
        self.store.mkdir(parents=True, exist_ok=True)
        handle = (self.store / f"{job_id}.lock").open("a")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        self._held[job_id] = handle
        return True

    def _release(self, job_id: str) -> None:
        handle = self._held.pop(job_id, None)
        if handle is not None:
            if self.store is not None:
                (self.store / f"{job_id}.lock").unlink(missing_ok=True)
            fcntl.flock(handle, fcntl.LOCK_UN)
            handle.close()
