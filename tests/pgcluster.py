"""A throwaway PostgreSQL cluster for one test run, used when TEST_DATABASE_URL names no server.

Our own few lines over initdb/pg_ctl rather than pytest-postgresql: its process fixture calls pg_ctl
as the current user, and PostgreSQL refuses to run as root, which is how CI and fresh machines run
the tests. Here the cluster runs as the `postgres` user (or `nobody`) when we are root, on its own
port, socket folder and data folder, and is removed when the run ends.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

PREFIX = "dhrbot-pg-"
DEBIAN_BINDIRS = "/usr/lib/postgresql/*/bin"
HOW_TO_GET_ONE = (
    "install Debian's `postgresql` package (`make test` does), set PG_BINDIR to a folder with initdb and "
    "pg_ctl, or set TEST_DATABASE_URL to a server"
)


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server could be given to the tests."""


def find_bindir() -> Path | None:
    """The folder with initdb and pg_ctl: PG_BINDIR, else PATH, else Debian's newest major version."""
    if os.environ.get("PG_BINDIR"):
        return Path(os.environ["PG_BINDIR"])
    on_path = shutil.which("initdb")
    if on_path:
        return Path(on_path).parent
    versions = [p for p in Path("/").glob(DEBIAN_BINDIRS.lstrip("/")) if (p / "initdb").exists()]
    versions.sort(key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0)
    return versions[-1] if versions else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _server_user() -> pwd.struct_passwd | None:
    """Who the server runs as: PostgreSQL will not run as root, so root hands it to an ordinary user."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise PostgresUnavailable("running as root and there is no `postgres` or `nobody` user to run PostgreSQL as")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass
class ThrowawayCluster:
    """One PostgreSQL server in a temporary folder, trust authentication, reachable on 127.0.0.1 only."""

    bindir: Path
    root: Path
    port: int
    user: pwd.struct_passwd | None

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "LC_ALL": "C", "LANG": "C"}
        return subprocess.run(
            [str(self.bindir / args[0]), *args[1:]],
            cwd=self.root,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            user=self.user.pw_uid if self.user else None,
            group=self.user.pw_gid if self.user else None,
            extra_groups=[] if self.user else None,
        )

    @classmethod
    def start(cls) -> ThrowawayCluster:
        """Create and start a fresh cluster; raises PostgresUnavailable (with the reason) if it cannot."""
        bindir = find_bindir()
        if bindir is None or not (bindir / "initdb").exists():
            raise PostgresUnavailable(
                f"no PostgreSQL initdb found ({bindir or 'PATH, ' + DEBIAN_BINDIRS}): {HOW_TO_GET_ONE}"
            )
        remove_abandoned()
        user = _server_user()
        root = Path(tempfile.mkdtemp(prefix=PREFIX))
        (root / "owner.pid").write_text(str(os.getpid()))
        (root / "socket").mkdir()
        if user:
            for path in (root, root / "socket"):
                os.chown(path, user.pw_uid, user.pw_gid)
        cluster = cls(bindir=bindir, root=root, port=0, user=user)
        try:
            made = cluster._run("initdb", "-D", str(cluster.data), "-U", "postgres", "--auth=trust",
                                "--encoding=UTF8", "--no-locale", "--no-sync", "--no-instructions")  # fmt: skip
            if made.returncode != 0:
                raise PostgresUnavailable(f"initdb failed in {root}: {made.stderr.strip() or made.stdout.strip()}")
            for _attempt in range(3):  # a free port can be taken between choosing it and listening on it
                cluster.port = _free_port()
                # fsync off: a throwaway cluster never outlives the run, so a crash-safe disk buys nothing.
                options = (
                    f"-c listen_addresses=127.0.0.1 -p {cluster.port} -c unix_socket_directories={root / 'socket'} "
                    "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
                )
                started = cluster._run("pg_ctl", "-D", str(cluster.data), "-l", str(root / "server.log"),
                                       "-w", "-t", "60", "-o", options, "start")  # fmt: skip
                if started.returncode == 0:
                    return cluster
            log = (root / "server.log").read_text(errors="replace")[-2000:]
            raise PostgresUnavailable(f"pg_ctl could not start PostgreSQL in {root}: {started.stderr.strip()}\n{log}")
        except BaseException:
            cluster.stop()
            raise

    def stop(self) -> None:
        """Stop the server at once and delete every file of the cluster."""
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop", timeout=60)
        shutil.rmtree(self.root, ignore_errors=True)


def remove_abandoned() -> None:
    """Stop and delete clusters left by test runs that were killed before they could clean up."""
    for root in Path(tempfile.gettempdir()).glob(PREFIX + "*"):
        try:
            owner = int((root / "owner.pid").read_text())
        except (OSError, ValueError):
            continue
        if _pid_alive(owner):
            continue
        postmaster = root / "data" / "postmaster.pid"
        try:
            server_pid = int(postmaster.read_text().split()[0])
            if _is_postgres(server_pid, root):
                os.kill(server_pid, signal.SIGQUIT)  # PostgreSQL's "immediate shutdown"
        except (OSError, ValueError, IndexError):
            pass
        shutil.rmtree(root, ignore_errors=True)


def _is_postgres(pid: int, root: Path) -> bool:
    """Whether pid is still the server of that cluster (and not a process that reused its number)."""
    try:
        return str(root).encode() in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
