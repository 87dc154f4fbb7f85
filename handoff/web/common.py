"""What every part of the staff app shares: its settings, the signed session cookie, access dependencies, rendering."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.content.stages import STAGES
from bot.i18n import BY_CODE
from bot.service import Service
from bot.storage.models import StaffUser, utcnow
from handoff import wording
from handoff.access import require_role
from handoff.auth import RateLimiter, SessionCodec, StaffSession, csrf_ok, fingerprint, sign_in_current
from handoff.i18n import t

HERE = Path(__file__).resolve().parent.parent
COOKIE = "dhr_staff"
STAFF_TZ = ZoneInfo("Europe/London")
POLL_SECONDS = 2.0
STREAM_SECONDS = 300.0  # the browser's EventSource reconnects, re-checking the session each time
HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
}


class LoginRequired(Exception):
    """No valid, recent session: go to the login page."""


class CsrfFailed(Exception):
    """A form arrived without this session's CSRF token."""


@dataclass
class Config:
    """What the staff app needs from the service, plus its own timings (tests shorten them)."""

    service: Service
    codec: SessionCodec
    limiter: RateLimiter
    secure_cookies: bool
    poll_seconds: float = POLL_SECONDS
    stream_seconds: float = STREAM_SECONDS


# ---------------------------------------------------------------------------------------- session cookie
class SessionCookieMiddleware:
    """Reads the signed session cookie into request.state and writes back a refreshed one (ASGI, stream-safe)."""

    def __init__(self, app: ASGIApp, config: Config) -> None:
        self.app = app
        self.config = config

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cookies = SimpleCookie()
        for name, value in scope.get("headers", []):
            if name == b"cookie":
                cookies.load(value.decode("latin-1"))
        raw = cookies[COOKIE].value if COOKIE in cookies else None
        state = scope.setdefault("state", {})
        state["staff_session"] = self.config.codec.load(raw)
        state["staff_cookie"] = None if raw else state["staff_session"]

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                for key, value in HEADERS.items():
                    headers.append((key.lower().encode(), value.encode()))
                session: StaffSession | None = state.get("staff_cookie")
                if session is not None:
                    headers.append((b"set-cookie", self._cookie(session).encode("latin-1")))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_cookie)

    def _cookie(self, session: StaffSession) -> str:
        # A browser-session cookie (no Max-Age): gone when the browser closes; idle expiry is signed inside.
        parts = [f"{COOKIE}={self.config.codec.dump(session)}", "Path=/staff", "HttpOnly", "SameSite=Strict"]
        if self.config.secure_cookies:
            parts.append("Secure")
        return "; ".join(parts)


def staff_session(request: Request) -> StaffSession:
    session: StaffSession = request.state.staff_session
    return session


# ---------------------------------------------------------------------------------------- dependencies
def config_of(request: Request) -> Config:
    config: Config = request.app.state.config
    return config


@contextmanager
def database(request: Request) -> Iterator[Session]:
    with config_of(request).service.db.session() as s:
        yield s


def current_user(request: Request) -> StaffUser:
    """The signed-in staff member (a detached copy), or LoginRequired; keeps the session alive."""
    session = staff_session(request)
    if session.user_id is None:
        raise LoginRequired
    with database(request) as s:
        user = s.get(StaffUser, session.user_id)
        if user is None or not user.active or fingerprint(user) != session.fingerprint:
            raise LoginRequired
        if not sign_in_current(s, user, session.key):
            raise LoginRequired
    # The live feed and the refreshes it triggers are not activity: a page left open still times out.
    if request.url.path.rstrip("/").split("/")[-1] != "events" and not request.query_params.get("fragment"):
        session.seen = time.time()
        request.state.staff_cookie = session
    return user


async def csrf(request: Request) -> None:
    """Every form carries the session's CSRF token (SameSite=Strict cookies are a second lock)."""
    form = await request.form()
    token = form.get("csrf")
    if not csrf_ok(staff_session(request), token if isinstance(token, str) else None):
        raise CsrfFailed


def role(*roles: str) -> Callable[[StaffUser], StaffUser]:
    def check(user: Annotated[StaffUser, Depends(current_user)]) -> StaffUser:
        require_role(user, *roles)
        return user

    return check


CurrentUser = Annotated[StaffUser, Depends(current_user)]
Advocate = Annotated[StaffUser, Depends(role("advocate"))]
Chair = Annotated[StaffUser, Depends(role("chair"))]
Administrator = Annotated[StaffUser, Depends(role("administrator"))]
Csrf = Depends(csrf)


# ---------------------------------------------------------------------------------------- rendering
TEMPLATES = Jinja2Templates(directory=str(HERE / "templates"))


def _when(value: datetime | None) -> str:
    return value.astimezone(STAFF_TZ).strftime("%d %b %Y %H:%M") if value else ""


def _minutes(value: datetime | None) -> str:
    if value is None:
        return ""
    minutes = int((utcnow() - value).total_seconds() // 60)
    if minutes < 60:
        return t("{n} min").format(n=minutes)
    return t("{h} h {m} min").format(h=minutes // 60, m=minutes % 60)


TEMPLATES.env.globals.update(
    t=t,
    when=_when,
    waited=_minutes,
    stages=STAGES,
    languages=BY_CODE,
    plain=wording.plain,
    reasons=wording.REASONS,
    statuses=wording.STATUSES,
    priorities=wording.PRIORITIES,
    authors=wording.AUTHORS,
    events_words=wording.EVENTS,
)


def render(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    """A page, with the CSRF token and the signed-in user for the layout."""
    context = {"csrf_token": staff_session(request).csrf, "base": request.scope.get("root_path", ""), **context}
    return TEMPLATES.TemplateResponse(request, name, context, status_code=status_code)


def redirect(request: Request, path: str) -> RedirectResponse:
    """After a POST, back to a page (303, so the browser GETs it)."""
    return RedirectResponse(request.scope.get("root_path", "") + path, status_code=303)
