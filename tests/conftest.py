"""Shared fixtures: a fresh database on SQLite and (when TEST_DATABASE_URL is set) on PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
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

PG_URL = os.environ.get("TEST_DATABASE_URL", "")
BACKENDS = [
    "sqlite",
    pytest.param(
        "postgresql", marks=pytest.mark.skipif(not PG_URL, reason="TEST_DATABASE_URL is not set (CI sets it)")
    ),
]


def _pg(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1) if url.startswith("postgresql://") else url


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test run, migrated once, dropped at the end."""
    if not PG_URL:
        pytest.skip("TEST_DATABASE_URL is not set (CI sets it)")
    admin = create_engine(_pg(PG_URL), isolation_level="AUTOCOMMIT")
    name = f"dhrbot_test_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = _pg(PG_URL).rsplit("/", 1)[0] + "/" + name
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
