"""How many hops, queues, tasks and threads one spoken turn takes, counted, not estimated.

    PYTHONPATH=$PWD .venv/bin/python bench/turn_topology.py [--json]

One hands-free spoken turn runs through the real app (`serving.app.create_app`, the real
/ws/talk socket, session, recogniser, assistant and stages) on the fake engines of
tests/fakes.py (no model: the counts are of the pipeline's own structure, so the load of
the machine does not change them). From the first audio frame sent to the `turn_end`
frame received, the run records:

- tasks: asyncio tasks created (`loop.create_task`, which asyncio.create_task, gather and
  TaskGroup all use) whose creating frame is in the project;
- queues: asyncio.Queue objects created by project code, and how many of them carried at
  least one item during the turn;
- threads: threads started (`threading.Thread.start`) and executor jobs
  (`loop.run_in_executor`, which `asyncio.to_thread` uses) by project code, with the
  distinct worker threads those jobs ran on;
- hops: the hand-offs of the turn's data between the pipeline's modules: every distinct
  call edge (caller function -> callee function; a generator or coroutine resumed by its
  consumer counts as a call) whose two ends are in different pipeline modules, plus every
  queue that carried an item (a put in one task, a get in another). Callbacks, async
  generator chains and direct calls between modules all count once per distinct edge.

The same script runs on any commit since the fakes exist (tests/fakes.py), so before/after
figures come from one definition: run it in both worktrees.
"""

from __future__ import annotations

import argparse
import asyncio
import asyncio.base_events
import json
import os
import sys
import threading
from collections import Counter
from pathlib import Path
from types import FrameType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# The modules a spoken turn flows through (issue 8's list, plus the stages and helpers).
PIPELINE_PREFIXES = (
    "serving/talk.py",
    "serving/protocol.py",
    "serving/runtime.py",
    "assistant/session.py",
    "assistant/turn.py",
    "assistant/answerer.py",
    "assistant/threads.py",
    "assistant/preempt.py",
    "assistant/stages/",
    "voices/streaming.py",
)
QUESTION = "How much is the passport fee?"
# three sentences: what is created per sentence spoken shows
REPLY = (
    "Passport fees are listed on the page [1]. The fee is paid when you apply [1]. "
    "The page lists every fee [1]."
)


def _relative(filename: str) -> str | None:
    try:
        return str(Path(filename).resolve().relative_to(ROOT))
    except ValueError:
        return None


def _pipeline_module(filename: str) -> str | None:
    rel = _relative(filename)
    if rel is None or not rel.startswith(PIPELINE_PREFIXES):
        return None
    return rel


def _project_creator(skip: int = 2) -> str | None:
    """module:function of the nearest project frame (not bench/, not tests/) on the stack."""
    frame: FrameType | None = sys._getframe(skip)
    while frame is not None:
        rel = _relative(frame.f_code.co_filename)
        if rel is not None and not rel.startswith(("bench/", "tests/", ".venv/")):
            return f"{rel}:{frame.f_code.co_qualname}"
        frame = frame.f_back
    return None


class Recorder:
    """Patches asyncio/threading to record what project code creates while `active`."""

    def __init__(self) -> None:
        self.active = False
        self.tasks: Counter[str] = Counter()
        self.queues: dict[int, str] = {}  # id -> creator (queues created while active)
        self.all_queues: dict[int, str] = {}  # every project queue (setup included)
        self.used_queues: set[int] = set()
        self.threads: Counter[str] = Counter()
        self.executor_jobs: Counter[str] = Counter()
        self.worker_threads: set[str] = set()
        self.edges: set[tuple[str, str]] = set()
        self._lock = threading.Lock()

    def install(self) -> None:
        recorder = self
        loop_cls = asyncio.base_events.BaseEventLoop
        create_task, run_in_executor = loop_cls.create_task, loop_cls.run_in_executor
        queue_init, put_nowait = asyncio.Queue.__init__, asyncio.Queue.put_nowait
        thread_start = threading.Thread.start

        def patched_create_task(self: Any, coro: Any, **kwargs: Any) -> Any:
            creator = _project_creator()
            if recorder.active and creator is not None:
                recorder.tasks[creator] += 1
            return create_task(self, coro, **kwargs)

        def patched_run_in_executor(self: Any, executor: Any, func: Any, *args: Any) -> Any:
            creator = _project_creator()
            if recorder.active and creator is not None:
                recorder.executor_jobs[creator] += 1

                def traced(*a: Any) -> Any:
                    recorder.worker_threads.add(threading.current_thread().name)
                    return func(*a)

                return run_in_executor(self, executor, traced, *args)
            return run_in_executor(self, executor, func, *args)

        def patched_queue_init(self: Any, *args: Any, **kwargs: Any) -> None:
            queue_init(self, *args, **kwargs)
            creator = _project_creator()
            if creator is not None:
                recorder.all_queues[id(self)] = creator
                if recorder.active:
                    recorder.queues[id(self)] = creator

        def patched_put_nowait(self: Any, item: Any) -> None:
            if recorder.active and id(self) in recorder.all_queues:
                recorder.used_queues.add(id(self))
            return put_nowait(self, item)

        def patched_thread_start(self: threading.Thread) -> None:
            creator = _project_creator()
            if recorder.active and creator is not None:
                recorder.threads[creator] += 1
            thread_start(self)

        loop_cls.create_task = patched_create_task  # type: ignore[method-assign]
        loop_cls.run_in_executor = patched_run_in_executor  # type: ignore[method-assign]
        asyncio.Queue.__init__ = patched_queue_init  # type: ignore[method-assign]
        asyncio.Queue.put_nowait = patched_put_nowait  # type: ignore[method-assign]
        threading.Thread.start = patched_thread_start  # type: ignore[method-assign]
        threading.setprofile(self._profile)
        sys.setprofile(self._profile)

    def _profile(self, frame: FrameType, event: str, _arg: object) -> None:
        if event != "call" or not self.active:
            return
        callee = _pipeline_module(frame.f_code.co_filename)
        caller_frame = frame.f_back
        if callee is None or caller_frame is None:
            return
        caller = _pipeline_module(caller_frame.f_code.co_filename)
        if caller is None or caller == callee:
            return
        edge = (
            f"{caller}:{caller_frame.f_code.co_qualname}",
            f"{callee}:{frame.f_code.co_qualname}",
        )
        with self._lock:
            self.edges.add(edge)

    def report(self) -> dict[str, Any]:
        used = sorted(self.all_queues[q] for q in self.used_queues)
        return {
            "hops": len(self.edges) + len(self.used_queues),
            "cross_module_edges": len(self.edges),
            "queues_carrying_items": len(self.used_queues),
            "queues_created_in_turn": len(self.queues),
            "tasks_created_in_turn": sum(self.tasks.values()),
            "threads_started_in_turn": sum(self.threads.values()),
            "executor_jobs_in_turn": sum(self.executor_jobs.values()),
            "executor_worker_threads": len(self.worker_threads),
            "detail": {
                "edges": sorted(f"{a} -> {b}" for a, b in self.edges),
                "queues_used": used,
                "queues_created": sorted(Counter(self.queues.values()).items()),
                "tasks": sorted(self.tasks.items()),
                "threads": sorted(self.threads.items()),
                "executor_jobs": sorted(self.executor_jobs.items()),
            },
        }


def run_one_turn(recorder: Recorder, home: Path) -> dict[str, Any]:
    from fastapi.testclient import TestClient

    from assistant.config import AssistantSettings
    from knowledge_base import KnowledgeBaseSettings
    from serving.app import create_app
    from tests.fakes import (
        FakeGenerator,
        FakeKnowledgeBase,
        FakeTranscriber,
        fake_engines,
        frames,
        silence,
        tone,
    )
    from tests.fixtures_fakes import DEMO_CORPUS
    from tests.fixtures_serving import serving_settings

    kb = FakeKnowledgeBase(KnowledgeBaseSettings(home=home))
    kb.collection("demo").ingest([DEMO_CORPUS / "en"])
    # the default assistant settings (a holding phrase armed, as in production)
    engines = fake_engines(
        kb,
        transcriber=FakeTranscriber.saying(QUESTION),
        generator=FakeGenerator.replying(REPLY, REPLY),  # the rewrite may take one
        settings=AssistantSettings(),
    )
    app = create_app(serving_settings(home), engines=engines)
    with TestClient(app) as client, client.websocket_connect("/ws/talk") as ws:
        ws.send_json({"type": "start", "sample_rate": 16000, "language": "en"})
        assert ws.receive_json()["type"] == "ready"
        recorder.active = True
        for frame in frames(silence(200) + tone(1200) + silence(1000)):
            ws.send_bytes(frame)
        kinds: list[str] = []
        while True:
            message = ws.receive()
            if message.get("bytes") is not None:
                kinds.append("audio")
                continue
            frame_type = json.loads(message["text"])["type"]
            kinds.append(frame_type)
            if frame_type == "turn_end":
                break
        recorder.active = False
    return {"frames": Counter(kinds)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="everything, as JSON")
    parser.add_argument("--home", type=Path, default=None, help="a scratch SAMYU_HOME")
    args = parser.parse_args()
    import tempfile

    recorder = Recorder()
    recorder.install()
    with tempfile.TemporaryDirectory() as scratch:
        result = run_one_turn(recorder, args.home or Path(scratch))
    threading.setprofile(None)  # type: ignore[arg-type]
    sys.setprofile(None)
    report = recorder.report()
    report["frames_received"] = dict(result["frames"])
    report["load"] = os.getloadavg()
    if args.json:
        print(json.dumps(report, indent=2, ensure_ascii=False))
        return
    detail = report.pop("detail")
    for key, value in report.items():
        print(f"{key}: {value}")
    for key, values in detail.items():
        print(f"-- {key}")
        for value in values:
            print(f"   {value}")


if __name__ == "__main__":
    main()
