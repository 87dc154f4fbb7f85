"""The web app as each `dhrbot serve --workers N` process builds it: its own service, no migrations."""

from __future__ import annotations

from fastapi import FastAPI

from bot.service import build_service
from bot.settings import get_settings
from bot.web.app import create_app


def create() -> FastAPI:
    """One worker's app; the parent process has already migrated the database and runs the outbox."""
    return create_app(build_service(get_settings(), migrate=False))
