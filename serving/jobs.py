"""Background ingest jobs of the admin API: upload now, ingest in a worker thread, poll status.

Jobs run one at a time per collection (the knowledge base allows one writer per collection);
the registry remembers the last `max_kept` finished jobs for polling.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import time
import uuid
from collections import OrderedDict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

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
    failures: list[str] = field(default_factory=list)  # "file: reason", one per failed file
    sync: bool = False  # files of the collection not in this upload are removed

    def progress(self, done: int, total: int, current: str) -> None:
        """Called from the ingest thread; plain attribute writes are atomic enough to poll."""
        self.files_done, self.files_total, self.current = done, total, current

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["progress"] = round(self.files_done / self.files_total, 3) if self.files_total else 0.0
        return out


class JobRegistry:
    def __init__(self, max_kept: int = 100, on_finish: Any = None) -> None:
        self.max_kept = max_kept
        self._jobs: OrderedDict[str, IngestJob] = OrderedDict()
        self._locks: dict[str, asyncio.Lock] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._on_finish = on_finish

    def get(self, job_id: str) -> IngestJob | None:
        return self._jobs.get(job_id)

    def submit(
        self, collection: Collection, folder: Path, files: list[str], *, sync: bool = False
    ) -> IngestJob:
        job = IngestJob(id=uuid.uuid4().hex, collection=collection.name, files=files, sync=sync)
        self._jobs[job.id] = job
        self._forget_old()
        task = asyncio.create_task(self._run(job, collection, folder), name=f"ingest-{job.id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return job

    async def _run(self, job: IngestJob, collection: Collection, folder: Path) -> None:
        lock = self._locks.setdefault(job.collection, asyncio.Lock())
        try:
            async with lock:
                job.status = "running"
                report = await asyncio.to_thread(
                    collection.ingest, [folder], sync=job.sync, progress=job.progress
                )
                job.report = {
                    "version": report.version,
                    "seconds": round(report.seconds, 3),
                    "chunks_embedded": report.chunks_embedded,
                    "files": [asdict(f) for f in report.files],
                    "disagreements": [d.as_dict() for d in report.disagreements],
                }
                job.failures = report.failures()
                job.status = report.outcome
                if job.status == "failed":
                    job.error = "no file could be loaded: " + "; ".join(job.failures)
        except Exception as exc:  # reported to the poller, never raised into the loop
            log.exception("ingest job %s failed", job.id)
            job.status, job.error = "failed", f"{type(exc).__name__}: {exc}"
        finally:
            job.finished = time.time()
            shutil.rmtree(folder, ignore_errors=True)
            if self._on_finish:
                self._on_finish(job)

    def _forget_old(self) -> None:
        finished = [j.id for j in self._jobs.values() if j.finished is not None]
        for job_id in finished[: max(0, len(finished) - self.max_kept)]:
            del self._jobs[job_id]

    async def drain(self, timeout: float = 30.0) -> None:
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=timeout)
