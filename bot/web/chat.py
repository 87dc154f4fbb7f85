"""The family web chat: the page, its messages in and out, live messages (Server-Sent Events), quick exit."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import anyio.to_thread
from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, StreamingResponse
from fastapi.templating import Jinja2Templates

from bot.dialogue.messages import Inbound, Outbound
from bot.i18n import BY_CODE, LANGUAGES, _, is_rtl, isolate, use_language
from bot.limits import parse_json
from bot.service import Service
from bot.web import live
from bot.web.turns import TurnThreads

T = TypeVar("T")
TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
CHAT_COOKIE = "dhr_chat"
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache", "Referrer-Policy": "no-referrer"}
# The page loads only its own script and style, talks only to this server, and is never framed (a
# framing page could hide the quick exit, or trick a tap).
PAGE_SECURITY = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
        "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
}
# /chat/send reads its body itself (size and depth limits first); this describes it for /openapi.json.
CHAT_SEND_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {"type": "object", "required": ["text"], "properties": {"text": {"type": "string"}}}
            }
        },
    }
}
STREAM_SECONDS = 50  # a live connection is renewed after this (the page reconnects at once, losing nothing)
KEEPALIVE_SECONDS = 15
RECHECK_SECONDS = 5  # how often a live page checks who it speaks for (a RESUME code can change it)


def chat_router(service: Service, turns: TurnThreads) -> APIRouter:
    """GET /chat, POST /chat/start, /chat/send, /chat/exit and GET /chat/events."""
    router = APIRouter()
    db = service.db
    feed = live.LiveFeed(db)
    sessions = live.ChatSessions(db, service.settings.resolved_secret_key())

    def secure(request: Request) -> bool:
        # Behind a TLS proxy listed in TRUSTED_PROXIES the request itself is https; an https public
        # address means browsers only ever reach us over TLS.
        return request.url.scheme == "https" or service.settings.public_base_url.startswith("https://")

    async def live_session(request: Request) -> str | None:
        key = request.cookies.get(CHAT_COOKIE)
        if not key or not await _read(sessions.is_live, key):
            return None
        return key

    @router.get("/chat", response_class=HTMLResponse)
    async def chat_page(request: Request, lang: str = "en") -> Response:
        """The family web chat, with a quick exit on every page."""
        code = lang if lang in BY_CODE else "en"
        context = {
            "languages": LANGUAGES,
            "quick_exit_url": service.settings.quick_exit_url,
            **page_words(code, service.helplines.emergency.number),
        }
        response = TEMPLATES.TemplateResponse(request, "chat.html", context, headers=NO_STORE | PAGE_SECURITY)
        if await live_session(request) is None:
            # Only keys this server made are accepted (a chosen or ended one is replaced). A session
            # cookie (no expiry): it is gone when the browser closes; the return code brings them back.
            key = sessions.start()
            response.set_cookie(CHAT_COOKIE, key, httponly=True, samesite="strict", secure=secure(request))
        return response

    @router.post("/chat/start")
    async def chat_start(request: Request) -> Response:
        """Opening the chat page: a new person is greeted; someone returning sees where they were."""
        if not _same_origin(request, service.settings.public_base_url):
            return JSONResponse({"error": "forbidden"}, status_code=403, headers=NO_STORE)
        key = await live_session(request)
        if key is None:
            return JSONResponse({"error": "open /chat first"}, status_code=400, headers=NO_STORE)
        since = datetime.now(UTC)
        before = await turns.run(service.engine.last_said, live.CHANNEL, key)
        if before is None:
            replies = await turns.run(service.engine.handle, Inbound(channel=live.CHANNEL, address=key, text="hello"))
            return await _chat_reply(key, [(None, r) for r in replies], since)
        return await _chat_reply(key, before, since)

    @router.post("/chat/send", openapi_extra=CHAT_SEND_BODY)
    async def chat_send(request: Request) -> Response:
        """One message from the web chat; the replies come back at once."""
        if not _same_origin(request, service.settings.public_base_url):
            return JSONResponse({"error": "forbidden"}, status_code=403, headers=NO_STORE)
        key = await live_session(request)
        try:
            body: Any = parse_json(await request.body(), service.settings.max_json_depth)
        except ValueError:
            body = None
        message = body.get("text") if isinstance(body, dict) else None
        # A message over the length cap is still taken: the engine answers it kindly, reading only its start.
        if not key or not isinstance(message, str) or not message.strip():
            return JSONResponse({"error": "a message is needed"}, status_code=400, headers=NO_STORE)
        replies = await turns.run(service.engine.handle, Inbound(channel=live.CHANNEL, address=key, text=message))
        return await _chat_reply(key, [(None, r) for r in replies])

    async def _chat_reply(
        key: str, said: Sequence[tuple[int | None, Outbound]], since: datetime | None = None
    ) -> Response:
        """The replies, and the page's words once the person has chosen a language."""
        chosen = await turns.run(service.engine.language_of, live.CHANNEL, key)
        body: dict[str, Any] = {
            "replies": [
                {
                    "id": message_id,
                    "text": r.text,
                    "choices": [{"value": c.value, "label": c.label} for c in r.choices],
                    "many": r.many,
                }
                for message_id, r in said
            ],
            # Once a language is chosen the page follows it: its words, and right to left where needed.
            "page": page_words(chosen, service.helplines.emergency.number) if chosen else None,
        }
        if since is not None:
            body["since"] = _cursor(since)  # where the page's live messages start
        return JSONResponse(body, headers=NO_STORE)

    @router.get("/chat/events")
    async def chat_events(request: Request, since: str = "") -> Response:
        """New messages for this page as they are sent (Server-Sent Events); a reconnecting page gives
        the last one it had (Last-Event-ID) and is sent only what came after."""
        key = await live_session(request)
        if key is None:
            return Response(status_code=204, headers=NO_STORE)  # 204 tells the page not to reconnect
        resumed = _read_cursor(request.headers.get("last-event-id", ""))
        start = resumed or _read_cursor(since) or datetime.now(UTC)
        return StreamingResponse(
            _stream(request, key, start, reconnected=resumed is not None),
            media_type="text/event-stream",
            headers=NO_STORE | {"X-Accel-Buffering": "no"},  # nginx: pass each event on at once
        )

    async def _stream(request: Request, key: str, start: datetime, *, reconnected: bool) -> AsyncIterator[str]:
        cursor = start
        told: set[int] = set()  # ids this connection has sent (the overlap finds them again)
        # A freshly opened page shows what came since the person last wrote (POST /chat/start); older
        # messages the overlap would find belong before that, so they are not added below it. A
        # reconnecting page missed nothing older than its Last-Event-ID, so it needs no floor.
        floor = 0
        wake = asyncio.Event()
        contact_id: int | None = None
        loop = asyncio.get_running_loop()
        ends = loop.time() + STREAM_SECONDS
        next_keepalive = loop.time() + KEEPALIVE_SECONDS
        next_recheck = 0.0
        yield "retry: 500\n\n"  # a renewed connection comes straight back
        try:
            while loop.time() < ends and not await request.is_disconnected():
                if loop.time() >= next_recheck:
                    next_recheck = loop.time() + RECHECK_SECONDS
                    alive, now_for = await _read(sessions.page_state, key)
                    if not alive:
                        return  # quick exit in another tab: nothing more for this page
                    if now_for != contact_id:
                        if contact_id is not None:
                            feed.forget(contact_id, wake)
                        first, contact_id = contact_id is None, now_for
                        if contact_id is not None:
                            feed.watch(contact_id, wake)
                            if not (first and reconnected):
                                floor = await _read(live.last_inbound_id, db, contact_id)
                        wake.set()  # look now: a RESUME code may have brought messages with it
                if wake.is_set() and contact_id is not None:
                    wake.clear()
                    for shown in await _read(live.sent_to, db, contact_id, cursor - live.OVERLAP):
                        if shown.id in told or shown.id < floor:
                            continue
                        told.add(shown.id)
                        cursor = max(cursor, shown.sent_at)
                        yield f"id: {_cursor(cursor)}\nevent: message\ndata: {json.dumps(shown.as_json())}\n\n"
                if loop.time() >= next_keepalive:
                    next_keepalive = loop.time() + KEEPALIVE_SECONDS
                    yield ": still here\n\n"
                try:
                    await asyncio.wait_for(wake.wait(), timeout=1.0)
                except TimeoutError:
                    pass
        finally:
            if contact_id is not None:
                feed.forget(contact_id, wake)

    @router.post("/chat/exit")
    async def chat_exit(request: Request) -> Response:
        """Quick exit: the session ends on the server and the browser forgets its cookie."""
        await _read(sessions.end, request.cookies.get(CHAT_COOKIE))
        response = JSONResponse({"ok": True}, headers=NO_STORE)
        response.delete_cookie(CHAT_COOKIE, httponly=True, samesite="strict", secure=secure(request))
        return response

    return router


async def _read(fn: Callable[..., T], *args: Any) -> T:
    """A short database call off the event loop, outside the turn threads (it never waits for a turn)."""
    return await anyio.to_thread.run_sync(fn, *args)


def _cursor(moment: datetime) -> str:
    """A moment as the page carries it (microseconds since 1970)."""
    return str(int(moment.timestamp() * 1_000_000))


def _read_cursor(value: str) -> datetime | None:
    if not value.isdigit() or len(value) > 20:
        return None
    moment = datetime.fromtimestamp(int(value) / 1_000_000, UTC)
    # A cursor from the future (a tampered one) would hide messages: never later than now.
    return min(moment, datetime.now(UTC) + timedelta(seconds=1))


def page_words(code: str, emergency_number: str) -> dict[str, Any]:
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
                # Honest about what is kept: the conversation is kept (encrypted) on our side, nothing
                # on the device once the browser is closed.
                "shared_device": _(
                    "On a shared device? Nothing stays on this device after you close the browser. What you tell us is kept safely by our team."
                ),
                "from_team": _("From our team"),
                "return_hint": _("Been here before? Send your return code, like: RESUME ABCD-EFGH"),
            },
        }


def _same_origin(request: Request, public_base_url: str) -> bool:
    """Refuse cross-site posts (the chat cookie is SameSite, this is a second lock)."""
    origin = request.headers.get("origin")
    if origin is None:
        return True
    own = f"{request.url.scheme}://{request.headers.get('host', '')}"
    return origin in (own, public_base_url.rstrip("/"))
