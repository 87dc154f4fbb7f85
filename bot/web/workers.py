"""Several web processes on one port, each with its own listening socket (SO_REUSEPORT).

One Python process answers one turn at a time (the GIL), so `dhrbot serve --workers N` runs N of
them. With one shared socket, whichever process wakes first takes a new connection, and long-lived
provider connections can pile up on one busy process while another idles (measured: 75% against 30%
of a core). With a socket each, the kernel spreads connections evenly across them.
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import socket
import time
from multiprocessing.process import BaseProcess
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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


def _listen(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


def _worker(host: str, port: int) -> None:
    """One web process: its own service (bot.web.asgi) behind its own socket on the shared port."""
    import uvicorn

    from bot.settings import get_settings

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    config = uvicorn.Config("bot.web.asgi:create", factory=True, **uvicorn_options(get_settings()))
    uvicorn.Server(config).run(sockets=[_listen(host, port)])


def serve_workers(host: str, port: int, workers: int) -> None:
    """Run `workers` web processes until SIGINT or SIGTERM, replacing any that dies."""
    try:
        _listen(host, port).close()  # fail here, once and clearly, if the port is taken
    except OSError as exc:
        raise SystemExit(f"dhrbot cannot listen on {host}:{port}: {exc.strerror}") from None
    ctx = multiprocessing.get_context("spawn")  # fresh processes: no copied threads or connections
    stopping = False

    def start() -> tuple[BaseProcess, float]:
        process = ctx.Process(target=_worker, args=(host, port), name="dhrbot-web")
        process.start()
        return process, time.monotonic()

    def stop(_signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    previous = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    processes = [start() for _ in range(workers)]
    pause = 1.0  # between replacements of processes that die young (the database down, say)
    try:
        while not stopping:
            time.sleep(0.5)
            for n, (process, started) in enumerate(processes):
                if process.is_alive() or stopping:
                    continue
                log.warning("web process %s exited with %s; starting another", process.pid, process.exitcode)
                if time.monotonic() - started < 10:
                    time.sleep(pause)
                    pause = min(pause * 2, 30.0)
                else:
                    pause = 1.0
                processes[n] = start()
    finally:
        for process, _started in processes:
            process.terminate()  # uvicorn finishes the requests in hand, then exits
        for process, _started in processes:
            process.join(timeout=30)
        for s, handler in previous.items():
            signal.signal(s, handler)
