"""How many turns one web process answers at once."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from bot.settings import Settings
from bot.web.turns import TurnThreads


def _most_at_once(size: int, calls: int) -> int:
    """Run `calls` slow turns through TurnThreads(size) together; how many ran at the same moment."""
    lock = threading.Lock()
    running = most = 0

    def turn() -> None:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        time.sleep(0.05)
        with lock:
            running -= 1

    async def main() -> None:
        turns = TurnThreads(size)
        await asyncio.gather(*(turns.run(turn) for _ in range(calls)))

    asyncio.run(main())
    return most


@pytest.mark.parametrize("size", [1, 3])
def test_turns_run_at_most_size_at_once(size: int) -> None:
    assert _most_at_once(size, calls=6) == size


def test_turn_threads_fit_the_nlu_backend() -> None:
    # The in-process NLU keeps the process busy: one turn at a time. A Rasa server keeps it waiting.
    assert Settings(nlu_backend="embedded").resolved_turn_threads() == 1
    assert Settings(nlu_backend="rasa").resolved_turn_threads() == 8
    assert Settings(nlu_backend="rasa", turn_threads=2).resolved_turn_threads() == 2
