"""Run a blocking iterator (llama.cpp tokens, TTS audio chunks) in a thread, as an async stream
that stops promptly when its consumer is cancelled or closes it.

asyncio.to_thread per item would leave the iterator running on cancellation and could not
stop a C library between items; here a stop flag is checked between items, and the consumer
never waits for the thread to notice it.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from typing import TypeVar

T = TypeVar("T")
_DONE = object()


async def iterate_in_thread(produce: Callable[[], Iterator[T]], *, name: str) -> AsyncIterator[T]:
    """Items of `produce()` (called in a worker thread), in order; its exceptions re-raised."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[object] = asyncio.Queue()
    stop = threading.Event()

    def put(item: object) -> None:
        with contextlib.suppress(RuntimeError):  # the loop closed: nobody is listening
            loop.call_soon_threadsafe(queue.put_nowait, item)

    def work() -> None:
        try:
            iterator = produce()
            try:
                for item in iterator:
                    if stop.is_set():
                        break
                    put(item)
            finally:
                close = getattr(iterator, "close", None)
                if close is not None:
                    close()
        except BaseException as exc:  # handed to the consumer and raised there
            put(_Failure(exc))
        finally:
            put(_DONE)

    threading.Thread(target=work, name=name, daemon=True).start()
    try:
        while (item := await queue.get()) is not _DONE:
            if isinstance(item, _Failure):
                raise item.exc
            yield item  # type: ignore[misc]
    finally:
        stop.set()


class _Failure:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc
