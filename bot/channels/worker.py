"""Running dispatchers: a thread inside `dhrbot serve`, or the process itself in `dhrbot worker`."""

from __future__ import annotations

import logging
import signal
import threading

from bot.channels.dispatcher import Dispatcher, build_senders
from bot.service import Service

log = logging.getLogger(__name__)


def _run(service: Service, stop: threading.Event) -> None:
    senders = build_senders(service)  # per thread: the Telegram sender owns an event loop
    if not senders:
        log.info("no messaging channel is configured: the dispatcher has nothing to send")
    try:
        Dispatcher(service, senders).run_forever(stop)
    finally:
        for sender in senders:
            sender.close()


def start_dispatcher_thread(service: Service) -> tuple[threading.Thread, threading.Event]:
    """A dispatcher running in the background of this process; set the event to stop it."""
    stop = threading.Event()
    thread = threading.Thread(target=_run, args=(service, stop), name="dhrbot-dispatcher", daemon=True)
    thread.start()
    return thread, stop


def run_worker(service: Service) -> None:
    """Dispatch until SIGTERM or Ctrl-C; run several of these against PostgreSQL to share the work."""
    stop = threading.Event()

    def _stop(signum: int, _frame: object) -> None:
        log.info("signal %s: finishing the current message, then stopping", signum)
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    log.info("dispatcher started")
    _run(service, stop)
