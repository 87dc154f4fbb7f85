"""The one ASGI app: family web chat, health checks, and (mounted by their modules) webhooks and staff."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Response
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text

from bot.channels.wiring import routers
from bot.dialogue.contributions import MAX_FILE_BYTES
from bot.limits import BodySizeLimit
from bot.service import Service
from bot.web.chat import CHAT_COOKIE, NO_STORE
from bot.web.turns import TurnThreads
from bot.web.upload import upload_router
from handoff.web import staff_app

__all__ = ["CHAT_COOKIE", "NO_STORE", "create_app"]


def create_app(service: Service) -> FastAPI:
    """The web app for one service."""
    app = FastAPI(title="dhrbot", docs_url=None, redoc_url=None)
    app.state.service = service
    # Outermost: an absurdly large body is refused before anything reads or parses it.
    # A file from the web chat is refused by the upload itself, kindly, past its own larger limit.
    app.add_middleware(
        BodySizeLimit, max_bytes=service.settings.max_request_bytes, larger={"/chat/upload": MAX_FILE_BYTES + 1}
    )
    app.mount("/static", StaticFiles(directory=str(Path(__file__).parent / "static")), name="static")
    app.mount("/staff", staff_app(service))
    turns = TurnThreads(service.settings.resolved_turn_threads())
    for router in routers(service, turns):  # every channel's webhooks, and the web chat
        app.include_router(router)
    app.include_router(upload_router(service, turns))  # POST /chat/upload: a file from the web chat

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        """The process is up."""
        return {"status": "ok"}

    @app.get("/readyz")
    def readyz() -> Response:
        """The database answers."""
        try:
            with service.db.session() as s:
                s.execute(text("SELECT 1"))
        except Exception as exc:  # noqa: BLE001 - any failure means not ready
            return JSONResponse({"status": "unavailable", "error": type(exc).__name__}, status_code=503)
        return JSONResponse({"status": "ok"})

    @app.get("/", include_in_schema=False)
    def root() -> Response:
        return RedirectResponse("/chat")

    return app
