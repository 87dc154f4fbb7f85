"""The one ASGI app: family web chat, health checks, and (mounted by their modules) webhooks and staff."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from sqlalchemy import text

from bot.channels import channels_router
from bot.dialogue.messages import Inbound, Outbound
from bot.i18n import BY_CODE, LANGUAGES, _, is_rtl, isolate, use_language
from bot.service import Service
from bot.web.turns import TurnThreads
from bot.web.upload import upload_router
from handoff.web import staff_app

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
CHAT_COOKIE = "dhr_chat"
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache", "Referrer-Policy": "no-referrer"}
MAX_MESSAGE_LENGTH = 4000


def create_app(service: Service) -> FastAPI:
    """The web app for one service."""
    app = FastAPI(title="dhrbot", docs_url=None, redoc_url=None)
    app.state.service = service
    app.mount("/static", StaticFiles(directory=str(Path(__file__).parent / "static")), name="static")
    app.mount("/staff", staff_app(service))
    turns = TurnThreads(service.settings.resolved_turn_threads())
    app.include_router(channels_router(service, turns))
    app.include_router(upload_router(service, turns))  # POST /chat/upload

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

    @app.get("/chat", response_class=HTMLResponse)
    def chat_page(request: Request, lang: str = "en") -> Response:
        """The family web chat, with a quick exit on every page."""
        code = lang if lang in BY_CODE else "en"
        context = {
            "languages": LANGUAGES,
            "quick_exit_url": service.settings.quick_exit_url,
            **_page_words(code, service.helplines.emergency.number),
        }
        response = TEMPLATES.TemplateResponse(request, "chat.html", context, headers=NO_STORE)
        if CHAT_COOKIE not in request.cookies:
            # A session cookie (no expiry): it is gone when the browser closes.
            response.set_cookie(
                CHAT_COOKIE,
                secrets.token_urlsafe(24),
                httponly=True,
                samesite="strict",
                secure=request.url.scheme == "https",
            )
        return response

    @app.post("/chat/start")
    async def chat_start(request: Request) -> Response:
        """Opening the chat page: a new person is greeted; someone returning sees where they were."""
        if not _same_origin(request, service.settings.public_base_url):
            return JSONResponse({"error": "forbidden"}, status_code=403, headers=NO_STORE)
        session_id = request.cookies.get(CHAT_COOKIE)
        if not session_id:
            return JSONResponse({"error": "open /chat first"}, status_code=400, headers=NO_STORE)
        said = await turns.run(service.engine.last_said, "web", session_id)
        if said is None:
            said = await turns.run(service.engine.handle, Inbound(channel="web", address=session_id, text="hello"))
        return await _chat_reply(session_id, said)

    @app.post("/chat/send")
    async def chat_send(request: Request) -> Response:
        """One message from the web chat; the replies come back at once."""
        if not _same_origin(request, service.settings.public_base_url):
            return JSONResponse({"error": "forbidden"}, status_code=403, headers=NO_STORE)
        session_id = request.cookies.get(CHAT_COOKIE)
        try:
            body: Any = await request.json()
        except ValueError:
            body = None
        message = body.get("text") if isinstance(body, dict) else None
        if not session_id or not isinstance(message, str) or not message.strip() or len(message) > MAX_MESSAGE_LENGTH:
            return JSONResponse(
                {"error": "a message of 1 to 4000 characters is needed"}, status_code=400, headers=NO_STORE
            )
        replies = await turns.run(service.engine.handle, Inbound(channel="web", address=session_id, text=message))
        return await _chat_reply(session_id, replies)

    async def _chat_reply(session_id: str, replies: list[Outbound]) -> Response:
        """The replies, and the page's words once the person has chosen a language."""
        chosen = await turns.run(service.engine.language_of, "web", session_id)
        return JSONResponse(
            {
                "replies": [
                    {
                        "text": r.text,
                        "choices": [{"value": c.value, "label": c.label} for c in r.choices],
                        "many": r.many,
                    }
                    for r in replies
                ],
                # Once a language is chosen the page follows it: its words, and right to left where needed.
                "page": _page_words(chosen, service.helplines.emergency.number) if chosen else None,
            },
            headers=NO_STORE,
        )

    @app.post("/chat/exit")
    def chat_exit() -> Response:
        """Quick exit: forget this browser's chat cookie."""
        response = JSONResponse({"ok": True}, headers=NO_STORE)
        response.delete_cookie(CHAT_COOKIE)
        return response

    return app


def _page_words(code: str, emergency_number: str) -> dict[str, Any]:
    """The chat page's own words in a language, and its direction."""
    with use_language(code):
        return {
            "lang": code,
            "dir": "rtl" if is_rtl(code) else "ltr",
            "t": {
                "title": _("Talk to us about the review"),
                "exit": _("Quick exit"),
                "exit_hint": _("Press Esc twice, or this button, to leave quickly."),
                "placeholder": _("Type your message"),
                "send": _("Send"),
                "attach": _("Attach a file"),
                "safety": _("If you are in danger, call {number}.").format(number=isolate(emergency_number)),
                "shared_device": _("On a shared device? Nothing is saved after you close this page."),
            },
        }


def _same_origin(request: Request, public_base_url: str) -> bool:
    """Refuse cross-site posts (the chat cookie is SameSite, this is a second lock)."""
    origin = request.headers.get("origin")
    if origin is None:
        return True
    own = f"{request.url.scheme}://{request.headers.get('host', '')}"
    return origin in (own, public_base_url.rstrip("/"))
