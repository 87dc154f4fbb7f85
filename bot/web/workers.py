"""Several web processes on one port, forked from one parent that has loaded everything they share.

One Python process answers one turn at a time (the GIL), so `dhrbot serve --workers N` runs N of
them. Each has its own listening socket on the shared port (SO_REUSEPORT): with one shared socket,
whichever process wakes first takes a new connection, and long-lived provider connections can pile up
on one busy process while another idles (measured: 75% against 30% of a core). With a socket each,
the kernel spreads connections evenly across them.

Memory: the parent loads the code and the NLU models once, then forks every other process from
itself, so their pages are shared copy-on-write instead of each process loading its own copy
(measured with two web processes: 815 -> 354-387 MB proportional set size in all;
docs/benchmarks.md). The parent itself starts no threads and opens no connections after that: it
only forks and supervises, so a process forked later (to replace one that died) is as clean as the
first. The outbox dispatchers and the timers run in a process of their own, forked the same way.
"""

from __future__ import annotations

import ctypes
import gc
import logging
import multiprocessing
import signal
import socket
import threading
import time
from collections.abc import Callable
from multiprocessing.process import BaseProcess
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.service import Service
    from bot.settings import Settings

log = logging.getLogger(__name__)
# Open web chat pages hold a connection for live messages; on shutdown they are closed after this and
# reconnect to another process (requests in hand finish well within it).
GRACEFUL_SHUTDOWN_SECONDS = 5


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """How every web process runs uvicorn: logging, the trusted TLS proxies, and a short shutdown."""
    return {
        "log_level": "info",
        "access_log": settings.access_log,
        # X-Forwarded-Proto/-For are believed only from these: behind them request URLs (and so the
        # chat cookie's Secure flag) are https, as the browser sees them.
        "proxy_headers": True,
        "forwarded_allow_ips": settings.trusted_proxies,
        "timeout_graceful_shutdown": GRACEFUL_SHUTDOWN_SECONDS,
    }


WEB_PROCESS_NAME = "dhrbot-web"
BACKGROUND_PROCESS_NAME = "dhrbot-outbox"


def _listen(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


def _name_process(name: str) -> None:
    """Show what a forked process is for in `ps` and /proc/PID/comm (Linux; elsewhere nothing happens)."""
    try:
        ctypes.CDLL(None).prctl(15, name.encode()[:15], 0, 0, 0)  # PR_SET_NAME
    except (OSError, AttributeError):
        pass


def _child(name: str) -> None:
    """What every forked process does first: its own name, and the default answer to signals."""
    _name_process(name)
    # The parent's handler only flags the parent's own loop; uvicorn and the outbox install theirs.
    for s in (signal.SIGINT, signal.SIGTERM):
        signal.signal(s, signal.SIG_DFL)


def _web(host: str, port: int, make_app: Callable[[], Any], options: dict[str, Any]) -> None:
    """One web process: the app behind its own socket on the shared port."""
    import uvicorn

    _child(WEB_PROCESS_NAME)
    config = uvicorn.Config(make_app(), **options)
    uvicorn.Server(config).run(sockets=[_listen(host, port)])


def _background(run: Callable[[], None]) -> None:
    """The process that sends the outbox and runs the timers."""
    _child(BACKGROUND_PROCESS_NAME)
    run()


def serve_workers(
    host: str,
    port: int,
    workers: int,
    make_app: Callable[[], Any],
    *,
    background: Callable[[], None] | None = None,
    options: dict[str, Any] | None = None,
) -> None:
    """Run `workers` web processes (and one `background` process) until SIGINT or SIGTERM, replacing any that dies.

    Call it from a process that has loaded what the web processes share and runs no threads. Each web
    process calls `make_app()` once, after the fork, and serves it with uvicorn (`options`).
    """
    try:
        _listen(host, port).close()  # fail here, once and clearly, if the port is taken
    except OSError as exc:
        raise SystemExit(f"dhrbot cannot listen on {host}:{port}: {exc.strerror}") from None
    options = options or {"log_level": "info", "access_log": False}
    # Fork, not spawn: a forked process shares the parent's loaded models and code until it writes to
    # them. Safe because this process runs no threads of its own.
    ctx = multiprocessing.get_context("fork")
    others = [t.name for t in threading.enumerate() if t is not threading.main_thread()]
    if others:  # a lock one of them holds would stay held for ever in every forked process
        log.warning("forking web processes while other threads run (%s): start them after", ", ".join(others))
    # What is loaded now stays for the life of the service: keep the collector from writing to it
    # (and so from copying the pages it lives on into every process).
    gc.collect()
    gc.freeze()
    stopping = False

    def start(kind: str) -> tuple[BaseProcess, float]:
        if kind == BACKGROUND_PROCESS_NAME:
            assert background is not None
            process = ctx.Process(target=_background, args=(background,), name=kind)
        else:
            process = ctx.Process(target=_web, args=(host, port, make_app, options), name=kind)
        process.start()
        return process, time.monotonic()

    def stop(_signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    previous = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    kinds = [WEB_PROCESS_NAME] * workers + ([BACKGROUND_PROCESS_NAME] if background is not None else [])
    processes = [start(kind) for kind in kinds]
    pause = 1.0  # between replacements of processes that die young (the database down, say)
    try:
        while not stopping:
            time.sleep(0.5)
            for n, (process, started) in enumerate(processes):
                if process.is_alive() or stopping:
                    continue
                log.warning("%s process %s exited with %s; starting another", kinds[n], process.pid, process.exitcode)
                if time.monotonic() - started < 10:
                    time.sleep(pause)
                    pause = min(pause * 2, 30.0)
                else:
                    pause = 1.0
                processes[n] = start(kinds[n])
    finally:
        for process, _started in processes:
            process.terminate()  # uvicorn finishes the requests in hand, the outbox the messages in hand
        for process, _started in processes:
            process.join(timeout=30)
        for s, handler in previous.items():
            signal.signal(s, handler)


def serve_service(service: Service, host: str, port: int, workers: int) -> None:
    """`dhrbot serve --workers N`: N web processes and the outbox process, all forked from this one."""
    from bot.channels.worker import run_worker
    from bot.timers import start_timers_thread  # noqa: F401 - imported once here, not in the outbox process
    from bot.web.app import create_app

    settings = service.settings
    share_before_fork(service)

    def web_app() -> Any:
        service.db.engine.dispose(close=False)  # any connection the parent opened stays the parent's
        return create_app(service)

    def outbox() -> None:
        service.db.engine.dispose(close=False)
        # Timers always; dispatchers unless SERVE_DISPATCHERS=0 leaves sending to `dhrbot worker`.
        run_worker(service, settings.serve_dispatchers)

    serve_workers(host, port, workers, web_app, background=outbox, options=uvicorn_options(settings))


def share_before_fork(service: Service) -> None:
    """Load now, once, what every forked process would otherwise load for itself; close connections."""
    import uvicorn

    from bot.i18n import LANGUAGES, translations
    from bot.web.app import create_app

    # Building an app (then dropping it) imports every module the web processes import when they
    # build theirs: uvicorn's protocols and event loop, the Telegram library, the form parser.
    uvicorn.Config(create_app(service), **uvicorn_options(service.settings)).load()

    for language in LANGUAGES:
        # Each language's catalog, and its CLDR data for dates and plurals (about 12 MB in all),
        # would otherwise load in every process on the language's first use.
        translations(language.code)
        language.locale.date_formats  # noqa: B018 - loads the locale's data
    # A forked process must never use a connection of the parent's: the server would see two clients
    # talking over one socket.
    service.db.engine.dispose()
