"""Running dispatchers: a thread inside `dhrbot serve`, or the process itself in `dhrbot worker`."""

from __future__ import annotations

import logging
import signal
import threading

from bot.channels.dispatcher import Dispatcher, nudge
from bot.channels.registry import channel
from bot.channels.wiring import build_senders
from bot.service import Service
from bot.storage.outbox import OUTBOX_CHANNEL

log = logging.getLogger(__name__)


def _run(service: Service, stop: threading.Event, first: bool) -> None:
    senders = build_senders(service.settings)  # per thread: the Telegram sender owns an event loop
    # The web chat's sender needs no credentials; say once (not in every thread) when it is alone.
    if first and all(channel(name).synchronous for sender in senders for name in sender.channels):
        log.info("no messaging channel is configured: the dispatcher sends only the web chat's messages")
    if not senders:
        return
    try:
        Dispatcher(service, senders).run_forever(stop)
    finally:
        for sender in senders:
            sender.close()


# Sends wait on the provider's network round trip, so a few dispatchers share the work in each process
# (each claims its own messages; claims never overlap).
DISPATCHERS_PER_PROCESS = 4


class Dispatchers:
    """Dispatcher threads running in the background of this process."""

    def __init__(self, threads: list[threading.Thread]) -> None:
        self.threads = threads

    def join(self, timeout: float | None = None) -> None:
        """Wait for every dispatcher to finish its current message."""
        for thread in self.threads:
            thread.join(timeout)


def wake_on_notify(service: Service, stop: threading.Event) -> None:
    """Wake this process's dispatchers when a turn in another process queues replies (PostgreSQL)."""
    import psycopg

    conninfo = service.db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    while not stop.is_set():
        try:
            with psycopg.connect(conninfo, autocommit=True) as conn:
                conn.execute(f"LISTEN {OUTBOX_CHANNEL}")
                while not stop.is_set():
                    for _ in conn.notifies(timeout=1.0, stop_after=1):
                        nudge()
        except psycopg.Error:
            log.warning("outbox notifications lost; dispatchers poll until they are back", exc_info=True)
            stop.wait(5.0)


def start_dispatcher_thread(
    service: Service, count: int = DISPATCHERS_PER_PROCESS
) -> tuple[Dispatchers, threading.Event]:
    """Dispatchers running in the background of this process; set the event to stop them."""
    stop = threading.Event()
    threads = [
        threading.Thread(target=_run, args=(service, stop, n == 0), name=f"dhrbot-dispatcher-{n}", daemon=True)
        for n in range(count)
    ]
    if count and service.db.is_postgres:
        threads.append(
            threading.Thread(target=wake_on_notify, args=(service, stop), name="dhrbot-outbox-listen", daemon=True)
        )
    for thread in threads:
        thread.start()
    return Dispatchers(threads), stop


def run_worker(service: Service, count: int = DISPATCHERS_PER_PROCESS) -> None:
    """Dispatch until SIGTERM or Ctrl-C; run several of these against PostgreSQL to share the work."""
    from bot.timers import start_timers_thread

    pool, stop = start_dispatcher_thread(service, count)
    start_timers_thread(service, stop)  # escalation, reminders, retention; safe in several workers

    def _stop(signum: int, _frame: object) -> None:
        log.info("signal %s: finishing the current messages, then stopping", signum)
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    log.info("%s dispatchers started", count)
    while not stop.wait(1.0):
        pass
    nudge()  # wake sleeping dispatchers so they see the stop
    pool.join(timeout=30)
