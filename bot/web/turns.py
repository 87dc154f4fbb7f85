"""Running conversation turns off the event loop, a few at a time in each web process."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

import anyio
import anyio.to_thread

T = TypeVar("T")


class TurnThreads:
    """The threads a web process answers turns in: at most `size` at once.

    A turn is mostly Python, and a process runs Python in one thread at a time (the GIL), so more
    threads only queue for it and switch back and forth (measured with two web processes on two
    cores: 367 turns/s with one thread each, 244 with eight; docs/benchmarks-channels.md). More than
    one pays off only when turns wait: on a Rasa server, or on a distant database.
    """

    def __init__(self, size: int) -> None:
        self.size = max(1, size)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._limiter: anyio.CapacityLimiter | None = None

    def _current_limiter(self) -> anyio.CapacityLimiter:
        # A limiter belongs to one event loop; test clients may run the app on several in turn.
        loop = asyncio.get_running_loop()
        if self._limiter is None or self._loop is not loop:
            self._loop, self._limiter = loop, anyio.CapacityLimiter(self.size)
        return self._limiter

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """Call `fn(*args)` in one of the turn threads, waiting for a free one."""
        return await anyio.to_thread.run_sync(fn, *args, limiter=self._current_limiter())
