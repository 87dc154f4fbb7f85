"""Shared fixtures: a fresh database on SQLite and on PostgreSQL (TEST_DATABASE_URL, else a throwaway cluster)."""

from __future__ import annotations

import os
import sqlite3
import uuid
from collections.abc import Generator, Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

os.environ.setdefault("DATA_KEY", Fernet.generate_key().decode())
os.environ.setdefault("SECRET_KEY", "test-secret-" + uuid.uuid4().hex)
os.environ["ENVIRONMENT"] = "test"

from sqlalchemy import create_engine, text

from bot.nlu.base import NLU
from bot.service import Service, build_service, load_nlu_backend
from bot.settings import PROJECT_ROOT, Settings
from bot.storage.models import Base
from tests import report
from tests.browser import CHROMIUM
from tests.pgcluster import PostgresUnavailable, ThrowawayCluster

BACKENDS = ["sqlite", "postgresql"]


def _pg(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1) if url.startswith("postgresql://") else url


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[tuple[str, str]]:
    """(URL, where) of this run's PostgreSQL: TEST_DATABASE_URL, else a throwaway cluster started for the run."""
    given = os.environ.get("TEST_DATABASE_URL", "")
    if given:
        yield _pg(given), "TEST_DATABASE_URL"
        return
    try:
        cluster = ThrowawayCluster.start()
    except PostgresUnavailable as exc:
        report.did_not_run("PostgreSQL", "no server (see the errors)")
        raise pytest.fail.Exception(f"the PostgreSQL tests need a server: {exc}", pytrace=False) from None
    # Processes the tests start (dhrbot serve --workers 2, scripts) find the same server.
    os.environ["TEST_DATABASE_URL"] = cluster.url
    try:
        yield cluster.url, "throwaway cluster"
    finally:
        del os.environ["TEST_DATABASE_URL"]
        cluster.stop()


@pytest.fixture(scope="session")
def postgres_url(postgres_server: tuple[str, str]) -> Iterator[str]:
    """A fresh PostgreSQL database for this test run, migrated once, dropped at the end."""
    server, where = postgres_server
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    name = f"dhrbot_test_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        version = str(conn.execute(text("SHOW server_version")).scalar()).split()[0]
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    report.ran("PostgreSQL", f"{version} ({where})")
    url = server.rsplit("/", 1)[0] + "/" + name
    from bot.storage.db import Database

    db = Database(url)
    db.upgrade()
    db.dispose()
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database with every migration applied and no rows, on each backend in turn."""
    if request.param == "sqlite":
        report.ran("SQLite", sqlite3.sqlite_version)
        yield f"sqlite:///{tmp_path / 'test.sqlite3'}"
        return
    url = request.getfixturevalue("postgres_url")
    yield url
    engine = create_engine(url)
    with engine.begin() as conn:
        tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(scope="session")
def nlu() -> NLU:
    """The configured NLU, trained once per test run (cached under var/ between runs)."""
    return load_nlu_backend(Settings(var_dir=PROJECT_ROOT / "var"))


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """Settings for one test: its own database and working folder."""
    return Settings(database_url=database_url, var_dir=tmp_path / "var", environment="test")


@pytest.fixture
def service(settings: Settings, nlu: NLU) -> Iterator[Service]:
    """The whole service on a fresh database."""
    svc = build_service(settings, nlu=nlu)
    yield svc
    svc.db.dispose()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> Generator[None, None, None]:
    """End the run with one line saying what the database, browser and NLU tests ran on."""
    yield
    absent = {} if os.path.exists(CHROMIUM) else {"Chromium": "not installed (`make browser-deps` installs it)"}
    terminalreporter.write_line(report.line(absent))
