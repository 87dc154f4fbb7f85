"""The staff web app under /staff: login with TOTP, the advocate inbox, the chair's view and administration.

Thin routes: access checks are dependencies (`Advocate`, `Chair`, `Administrator`, `csrf`), data comes
through the filters in handoff.access, and every state change is a named operation in handoff.tickets.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import Depends, FastAPI, Form, Request, Response
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, StreamingResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.admin import AdminError, create_case, invite
from bot.cli import invitation_text
from bot.i18n import BY_CODE, _, use_language
from bot.service import Service
from bot.storage.models import (
    AuditEntry,
    Case,
    Contact,
    StaffUser,
    Ticket,
    TicketEvent,
    utcnow,
)
from bot.storage.models import (
    Message as ChatMessage,
)
from bot.storage.outbox import enqueue
from handoff import canned, tickets
from handoff.access import (
    Forbidden,
    NotFound,
    case_filter,
    may_hold,
    require_role,
    ticket_filter,
    visible_case,
    visible_ticket,
)
from handoff.audit import audit
from handoff.auth import (
    RateLimiter,
    SessionCodec,
    StaffError,
    StaffSession,
    authenticate,
    create_user,
    csrf_ok,
    end_sign_in,
    fingerprint,
    provisioning_uri,
    sign_in_current,
    start_sign_in,
)
from handoff.chair import STAGES, queue_state, registrants
from handoff.exports import case_csv, case_pdf
from handoff.folders import FOLDERS
from handoff.i18n import t
from handoff.queue import URGENT_MESSAGE

HERE = Path(__file__).resolve().parent
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


def _session(request: Request) -> StaffSession:
    session: StaffSession = request.state.staff_session
    return session


# ---------------------------------------------------------------------------------------- dependencies
def _config(request: Request) -> Config:
    config: Config = request.app.state.config
    return config


@contextmanager
def _db(request: Request) -> Iterator[Session]:
    with _config(request).service.db.session() as s:
        yield s


def current_user(request: Request) -> StaffUser:
    """The signed-in staff member (a detached copy), or LoginRequired; keeps the session alive."""
    session = _session(request)
    if session.user_id is None:
        raise LoginRequired
    with _db(request) as s:
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
    if not csrf_ok(_session(request), token if isinstance(token, str) else None):
        raise CsrfFailed


def _role(*roles: str) -> Callable[[StaffUser], StaffUser]:
    def check(user: Annotated[StaffUser, Depends(current_user)]) -> StaffUser:
        require_role(user, *roles)
        return user

    return check


# Each export: how it is made and what the browser is told it is.
EXPORTS: dict[str, tuple[Callable[..., Any], str]] = {
    "csv": (case_csv, "text/csv; charset=utf-8"),
    "pdf": (case_pdf, "application/pdf"),
}
CurrentUser = Annotated[StaffUser, Depends(current_user)]
Advocate = Annotated[StaffUser, Depends(_role("advocate"))]
Chair = Annotated[StaffUser, Depends(_role("chair"))]
Administrator = Annotated[StaffUser, Depends(_role("administrator"))]
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


TEMPLATES.env.globals.update(t=t, when=_when, waited=_minutes, stages=STAGES, languages=BY_CODE)


def render(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    """A page, with the CSRF token and the signed-in user for the layout."""
    context = {"csrf_token": _session(request).csrf, "base": request.scope.get("root_path", ""), **context}
    return TEMPLATES.TemplateResponse(request, name, context, status_code=status_code)


def redirect(request: Request, path: str) -> RedirectResponse:
    """After a POST, back to a page (303, so the browser GETs it)."""
    return RedirectResponse(request.scope.get("root_path", "") + path, status_code=303)


# ---------------------------------------------------------------------------------------- the app
def staff_app(service: Service) -> FastAPI:
    """The staff web app; mount it at /staff."""
    settings = service.settings
    config = Config(
        service=service,
        codec=SessionCodec(settings.resolved_secret_key()),
        limiter=RateLimiter(),
        secure_cookies=settings.public_base_url.startswith("https://"),
    )
    app = FastAPI(title="dhrbot staff", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.config = config
    app.add_middleware(SessionCookieMiddleware, config=config)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="staff-static")

    @app.exception_handler(LoginRequired)
    async def _login_required(request: Request, exc: LoginRequired) -> Response:
        if request.url.path.endswith("/events"):
            return PlainTextResponse("login required", status_code=401)
        return redirect(request, "/login")

    @app.exception_handler(Forbidden)
    async def _forbidden(request: Request, exc: Forbidden) -> Response:
        return render(request, "error.html", {"message": t("Your role cannot use this page.")}, status_code=403)

    @app.exception_handler(CsrfFailed)
    async def _csrf_failed(request: Request, exc: CsrfFailed) -> Response:
        return render(
            request,
            "error.html",
            {"message": t("This form has expired. Go back, reload the page and try again.")},
            status_code=403,
        )

    @app.exception_handler(NotFound)
    async def _not_found(request: Request, exc: NotFound) -> Response:
        return render(request, "error.html", {"message": t("Not found.")}, status_code=404)

    @app.exception_handler(tickets.TicketError)
    async def _ticket_error(request: Request, exc: tickets.TicketError) -> Response:
        return render(request, "error.html", {"message": str(exc)}, status_code=409)

    @app.exception_handler(AdminError)
    @app.exception_handler(StaffError)
    async def _admin_error(request: Request, exc: ValueError) -> Response:
        return render(request, "error.html", {"message": str(exc)}, status_code=400)

    _add_login_routes(app)
    _add_inbox_routes(app)
    _add_chair_routes(app)
    _add_admin_routes(app)
    return app


# ---------------------------------------------------------------------------------------- login
def _add_login_routes(app: FastAPI) -> None:
    @app.get("/login", response_class=HTMLResponse)
    def login_page(request: Request) -> Response:
        """The login form (email, password and the six-digit code)."""
        request.state.staff_cookie = _session(request)
        return render(request, "login.html", {"error": None})

    @app.post("/login", dependencies=[Csrf])
    def login(
        request: Request, email: Annotated[str, Form()], password: Annotated[str, Form()], code: Annotated[str, Form()]
    ) -> Response:
        """Check password and TOTP; failures are counted and lock the account for a while."""
        config = _config(request)
        client = request.client.host if request.client else "unknown"
        with _db(request) as s:
            allowed = config.limiter.allow(s, client)
            user = authenticate(s, email, password, code) if allowed else None
            if user is not None:
                audit(s, user, "login", "staff_user", user.id)
                new = config.codec.new()
                new.user_id, new.fingerprint, new.key = user.id, fingerprint(user), start_sign_in(s, user)
            elif allowed:
                config.limiter.failed(s, client)
        if not allowed:
            return render(
                request,
                "login.html",
                {"error": t("Too many attempts. Wait a few minutes and try again.")},
                status_code=429,
            )
        if user is None:
            # One message for every failure, so nobody learns which emails have accounts.
            return render(
                request,
                "login.html",
                {"error": t("Those details are not right, or the account is locked for a while.")},
                status_code=401,
            )
        request.state.staff_session = request.state.staff_cookie = new
        return redirect(request, "/")

    @app.post("/logout", dependencies=[Csrf])
    def logout(request: Request, user: CurrentUser) -> Response:
        """End the session, on the server too."""
        with _db(request) as s:
            end_sign_in(s, _session(request).key)
        request.state.staff_cookie = _config(request).codec.new()
        return redirect(request, "/login")

    @app.get("/", response_class=HTMLResponse)
    def home(request: Request, user: CurrentUser) -> Response:
        """Each role's start page."""
        start = {"advocate": "/inbox/mine", "chair": "/cases", "administrator": "/admin"}
        return redirect(request, start.get(user.role, "/login"))


# ---------------------------------------------------------------------------------------- inbox
def _ticket_rows(s: Session, found: list[Ticket]) -> list[dict[str, Any]]:
    rows = []
    for ticket in found:
        contact = s.get(Contact, ticket.contact_id)
        case = s.get(Case, ticket.case_id) if ticket.case_id else None
        holder = s.get(StaffUser, ticket.assignee_id) if ticket.assignee_id else None
        routed = s.get(StaffUser, ticket.routed_to_id) if ticket.routed_to_id else None
        rows.append(
            {
                "ticket": ticket,
                "case": case.reference if case else t("not linked to a case"),
                "language": BY_CODE[contact.language].english_name if contact and contact.language in BY_CODE else "?",
                "holder": holder.display_name if holder else "",
                "last_inbound": contact.last_inbound_at if contact else None,
                "routed": routed.display_name if routed else t("organisation queue"),
            }
        )
    return rows


def _unanswered_urgent(events: Sequence[TicketEvent]) -> bool:
    """Whether the family sent an urgent message while this was held, and nobody has replied since."""
    last_alert = max((e.id for e in events if e.kind == URGENT_MESSAGE), default=0)
    last_reply = max((e.id for e in events if e.kind == "reply"), default=0)
    return last_alert > last_reply


def _add_inbox_routes(app: FastAPI) -> None:
    @app.get("/inbox/{folder}", response_class=HTMLResponse)
    def inbox(request: Request, user: Advocate, folder: str) -> Response:
        """A folder of the inbox: urgent first, then longest waiting."""
        chosen = FOLDERS.get(folder)
        if chosen is None:
            raise NotFound
        with _db(request) as s:
            rows = _ticket_rows(s, chosen.tickets(s, user))
            counts = {slug: len(f.tickets(s, user)) for slug, f in FOLDERS.items()}
        context = {"user": user, "folders": FOLDERS, "folder": chosen, "rows": rows, "counts": counts, "live": "inbox"}
        if request.query_params.get("fragment"):
            return render(request, "_ticket_list.html", context)
        return render(request, "inbox.html", context)

    @app.get("/tickets/{ticket_id}", response_class=HTMLResponse)
    def ticket_page(request: Request, user: Advocate, ticket_id: int) -> Response:
        """One conversation with its history; reading it is audited."""
        with _db(request) as s:
            ticket = visible_ticket(s, user, ticket_id)
            contact = s.get(Contact, ticket.contact_id)
            assert contact is not None
            messages = list(
                reversed(
                    s.scalars(
                        select(ChatMessage)
                        .where(ChatMessage.contact_id == contact.id)
                        .order_by(ChatMessage.id.desc())
                        .limit(200)
                    ).all()
                )
            )
            events = s.scalars(
                select(TicketEvent).where(TicketEvent.ticket_id == ticket.id).order_by(TicketEvent.id)
            ).all()
            staff_names = {u.id: u.display_name for u in s.scalars(select(StaffUser))}
            case = s.get(Case, ticket.case_id) if ticket.case_id else None
            others = [
                a
                for a in s.scalars(
                    select(StaffUser)
                    .where(StaffUser.role == "advocate", StaffUser.active.is_(True), StaffUser.id != user.id)
                    .order_by(StaffUser.display_name)
                )
                if may_hold(s, a, ticket)
            ]
            audit(
                s,
                user,
                "read",
                "ticket",
                ticket.id,
                case_id=ticket.case_id,
                detail=f"conversation of contact {contact.id}",
            )
            context = {
                "user": user,
                "ticket": ticket,
                "contact": contact,
                "case": case,
                "language": BY_CODE[contact.language].english_name if contact.language in BY_CODE else "?",
                "messages": messages,
                "events": events,
                "staff_names": staff_names,
                "canned": canned.all_rendered(contact.language),
                "others": others,
                "holds": ticket.status == "active" and ticket.assignee_id == user.id,
                "urgent_alert": ticket.status in ("waiting", "active") and _unanswered_urgent(events),
                "live": "ticket",
                "last_message_id": messages[-1].id if messages else 0,
            }
            if request.query_params.get("fragment"):
                return render(request, "_conversation.html", context)
            return render(request, "ticket.html", context)

    def _operate(
        request: Request, user: StaffUser, ticket_id: int, op: Callable[[Session, Ticket, StaffUser], Any]
    ) -> Response:
        with _db(request) as s:
            me = s.get(StaffUser, user.id)
            assert me is not None
            ticket = visible_ticket(s, me, ticket_id, lock=True)
            op(s, ticket, me)
        return redirect(request, f"/tickets/{ticket_id}")

    @app.post("/tickets/{ticket_id}/take", dependencies=[Csrf])
    def take(request: Request, user: Advocate, ticket_id: int) -> Response:
        """Take the conversation: the bot goes silent for this person."""

        def op(s: Session, ticket: Ticket, me: StaffUser) -> None:
            if not tickets.take(s, ticket, me):
                raise tickets.TicketError(t("Someone else has already taken this conversation."))

        return _operate(request, user, ticket_id, op)

    @app.post("/tickets/{ticket_id}/reply", dependencies=[Csrf])
    def reply(
        request: Request,
        user: Advocate,
        ticket_id: int,
        text: Annotated[str, Form()] = "",
        canned_key: Annotated[str, Form()] = "",
    ) -> Response:
        """Reply through the family's own channel (the outbox sends it)."""

        def op(s: Session, ticket: Ticket, me: StaffUser) -> None:
            body = text
            if not body.strip() and canned_key in canned.BY_KEY:
                contact = s.get(Contact, ticket.contact_id)
                body = canned.render(canned_key, contact.language if contact else None)
            tickets.reply(s, ticket, me, body)

        return _operate(request, user, ticket_id, op)

    @app.post("/tickets/{ticket_id}/note", dependencies=[Csrf])
    def note(request: Request, user: Advocate, ticket_id: int, text: Annotated[str, Form()]) -> Response:
        """A private note (advocates only)."""
        return _operate(request, user, ticket_id, lambda s, ticket, me: tickets.add_note(s, ticket, me, text))

    @app.post("/tickets/{ticket_id}/hand-back", dependencies=[Csrf])
    def hand_back(request: Request, user: Advocate, ticket_id: int) -> Response:
        """Give the conversation back to the bot."""
        return _operate(request, user, ticket_id, tickets.hand_back)

    @app.post("/tickets/{ticket_id}/close", dependencies=[Csrf])
    def close(request: Request, user: Advocate, ticket_id: int) -> Response:
        """Close the ticket."""
        return _operate(request, user, ticket_id, tickets.close)

    @app.post("/tickets/{ticket_id}/transfer", dependencies=[Csrf])
    def transfer(request: Request, user: Advocate, ticket_id: int, target_id: Annotated[int, Form()]) -> Response:
        """Give the ticket to another advocate who may see it."""

        def op(s: Session, ticket: Ticket, me: StaffUser) -> None:
            target = s.get(StaffUser, target_id)
            if target is None:
                raise tickets.TicketError(t("That advocate cannot take this conversation."))
            tickets.transfer(s, ticket, me, target)

        return _operate(request, user, ticket_id, op)

    @app.get("/events")
    async def events(request: Request, user: Advocate, ticket: int | None = None) -> Response:
        """Server-sent events: "changed" whenever the inbox (or the open conversation) changes."""
        config = _config(request)

        def snapshot() -> str:
            with _db(request) as s:
                visible = select(func.count(Ticket.id), func.max(Ticket.last_activity_on), func.max(Ticket.id)).where(
                    ticket_filter(user)
                )
                count, latest, top = s.execute(visible).one()
                # A family message to an open ticket changes the inbox too (its "last message" time).
                open_contacts = select(Ticket.contact_id).where(
                    ticket_filter(user), Ticket.status.in_(("waiting", "active"))
                )
                newest = s.scalar(
                    select(func.max(ChatMessage.id)).where(
                        ChatMessage.contact_id.in_(open_contacts), ChatMessage.direction == "in"
                    )
                )
                state: list[Any] = [count, str(latest), top, newest]
                if ticket is not None:
                    found = visible_ticket(s, user, ticket)
                    last = s.scalar(select(func.max(ChatMessage.id)).where(ChatMessage.contact_id == found.contact_id))
                    state += [last, found.status, found.assignee_id, str(found.last_activity_on)]
                return json.dumps(state)

        first = await run_in_threadpool(snapshot)  # raises NotFound before the stream starts

        async def stream() -> AsyncIterator[str]:
            last = first
            yield f"event: ready\ndata: {last}\n\n"
            loop = asyncio.get_running_loop()
            deadline = loop.time() + config.stream_seconds
            while loop.time() < deadline:
                if await request.is_disconnected():
                    return
                await asyncio.sleep(config.poll_seconds)
                current = await run_in_threadpool(snapshot)
                if current != last:
                    last = current
                    yield f"event: changed\ndata: {current}\n\n"
                else:
                    yield ": keep-alive\n\n"

        return StreamingResponse(stream(), media_type="text/event-stream", headers={"X-Accel-Buffering": "no"})


# ---------------------------------------------------------------------------------------- chair


def _add_chair_routes(app: FastAPI) -> None:
    @app.get("/cases", response_class=HTMLResponse)
    def cases(request: Request, user: Chair) -> Response:
        """The chair's own cases."""
        with _db(request) as s:
            found = s.scalars(select(Case).where(case_filter(user)).order_by(Case.reference)).all()
            rows = [(c, queue_state(s, c)) for c in found]
        return render(request, "cases.html", {"user": user, "rows": rows})

    @app.get("/cases/{case_id}", response_class=HTMLResponse)
    def case_page(request: Request, user: Chair, case_id: int) -> Response:
        """Who registered, how each wants to take part, what they agreed to share, and the queue's state."""
        with _db(request) as s:
            case = visible_case(s, user, case_id)
            people = registrants(s, case)
            queue = queue_state(s, case)
            audit(s, user, "read", "case", case.id, case_id=case.id, detail="chair's view")
        return render(
            request,
            "case.html",
            {"user": user, "case": case, "people": people, "queue": queue, "updates": canned.UPDATES},
        )

    def export(request: Request, user: StaffUser, case_id: int, kind: str) -> Response:
        """A case export honouring each person's consent; every export is audited."""
        make, media_type = EXPORTS[kind]
        with _db(request) as s:
            case = visible_case(s, user, case_id)
            body = make(s, case)
            audit(s, user, "export", "case", case.id, case_id=case.id, detail=kind)
        return Response(
            body,
            media_type=media_type,
            headers={"Content-Disposition": f'attachment; filename="{case.reference}.{kind}"'},
        )

    @app.get("/cases/{case_id}/export.csv")
    def export_csv(request: Request, user: Chair, case_id: int) -> Response:
        """The case as CSV for the overview report."""
        return export(request, user, case_id, "csv")

    @app.get("/cases/{case_id}/export.pdf")
    def export_pdf(request: Request, user: Chair, case_id: int) -> Response:
        """A PDF summary for the overview report."""
        return export(request, user, case_id, "pdf")

    @app.get("/cases/{case_id}/attachments/{attachment_id}")
    def attachment(request: Request, user: Chair, case_id: int, attachment_id: int) -> Response:
        """A voice note or document, only where its sender agreed to share with the chair; audited."""
        with _db(request) as s:
            case = visible_case(s, user, case_id)
            shared = {a.id: a for p in registrants(s, case) for a in p.attachments}
            found = shared.get(attachment_id)
            if found is None:
                raise NotFound
            audit(s, user, "read", "attachment", found.id, case_id=case.id)
            data, content_type = base64.b64decode(found.data), found.content_type
        return Response(
            data,
            media_type=content_type,
            headers={"Content-Disposition": f'attachment; filename="attachment-{attachment_id}"'},
        )

    @app.post("/cases/{case_id}/stage", dependencies=[Csrf])
    def set_stage(request: Request, user: Chair, case_id: int, stage: Annotated[int, Form()]) -> Response:
        """Move the case to one of the five stages."""
        if not 1 <= stage <= len(STAGES):
            raise NotFound
        with _db(request) as s:
            case = visible_case(s, user, case_id)
            case.stage = stage
            audit(s, user, "status", "case", case.id, case_id=case.id, detail=f"stage {stage}")
        return redirect(request, f"/cases/{case_id}")

    @app.post("/cases/{case_id}/update", dependencies=[Csrf])
    def send_update(request: Request, user: Chair, case_id: int, update: Annotated[str, Form()]) -> Response:
        """Send every linked person an update in their own language, at their safe times."""
        if update not in canned.UPDATES:
            raise NotFound
        with _db(request) as s:
            case = visible_case(s, user, case_id)
            sent = 0
            for contact in s.scalars(select(Contact).where(Contact.case_id == case.id, Contact.stopped.is_(False))):
                with use_language(contact.language):
                    text = _(canned.UPDATES[update].text).format(stage=_(canned.STAGE_NAMES[case.stage - 1]))
                if enqueue(s, contact, text, author="system", staff_id=user.id, prompted=False):
                    sent += 1
            audit(s, user, "update", "case", case.id, case_id=case.id, detail=f"{update} to {sent} people")
        return redirect(request, f"/cases/{case_id}")


# ---------------------------------------------------------------------------------------- administration
def _staff_by_email(s: Session, email: str, role: str) -> StaffUser | None:
    if not email:
        return None
    user = s.scalars(
        select(StaffUser).where(StaffUser.email == email.strip().lower(), StaffUser.active.is_(True))
    ).first()
    if user is None or user.role != role:
        raise AdminError(t("{email} is not an active {role} account").format(email=email, role=role))
    return user


def _add_admin_routes(app: FastAPI) -> None:
    @app.get("/admin", response_class=HTMLResponse)
    def admin(request: Request, user: Administrator) -> Response:
        """Cases and staff."""
        with _db(request) as s:
            all_cases = s.scalars(select(Case).order_by(Case.reference)).all()
            staff = s.scalars(select(StaffUser).order_by(StaffUser.role, StaffUser.display_name)).all()
            names = {u.id: u.display_name for u in staff}
        return render(
            request, "admin.html", {"user": user, "cases": all_cases, "staff": staff, "names": names, "code": None}
        )

    @app.post("/admin/cases", dependencies=[Csrf])
    def admin_create_case(
        request: Request,
        user: Administrator,
        reference: Annotated[str, Form()],
        label: Annotated[str, Form()],
        chair: Annotated[str, Form()] = "",
        lead: Annotated[str, Form()] = "",
        deputy: Annotated[str, Form()] = "",
    ) -> Response:
        """A new case with the name the family chose for the person."""
        with _db(request) as s:
            case = create_case(
                s,
                reference=reference.strip(),
                label=label.strip(),
                chair=chair or None,
                lead=lead or None,
                deputy=deputy or None,
            )
            audit(s, user, "create", "case", case.id, case_id=case.id)
        return redirect(request, "/admin")

    @app.post("/admin/cases/{case_id}/assign", dependencies=[Csrf])
    def admin_assign(
        request: Request,
        user: Administrator,
        case_id: int,
        chair: Annotated[str, Form()] = "",
        lead: Annotated[str, Form()] = "",
        deputy: Annotated[str, Form()] = "",
    ) -> Response:
        """Change who chairs a case and who its lead and deputy advocates are (empty: no one)."""
        with _db(request) as s:
            case = s.get(Case, case_id)
            if case is None:
                raise NotFound
            people = {
                key: _staff_by_email(s, email, role)
                for key, email, role in (
                    ("chair", chair, "chair"),
                    ("lead", lead, "advocate"),
                    ("deputy", deputy, "advocate"),
                )
            }
            case.chair_id = people["chair"].id if people["chair"] else None
            case.lead_advocate_id = people["lead"].id if people["lead"] else None
            case.deputy_advocate_id = people["deputy"].id if people["deputy"] else None
            if people["lead"] is not None:
                case.organisation_id = people["lead"].organisation_id
            audit(
                s,
                user,
                "assign",
                "case",
                case.id,
                case_id=case.id,
                detail=f"chair {case.chair_id}, lead {case.lead_advocate_id}, deputy {case.deputy_advocate_id}",
            )
        return redirect(request, "/admin")

    @app.post("/admin/cases/{case_id}/invite", dependencies=[Csrf])
    def admin_invite(
        request: Request, user: Administrator, case_id: int, note: Annotated[str, Form()] = ""
    ) -> Response:
        """A single-use code, shown once."""
        with _db(request) as s:
            case = s.get(Case, case_id)
            if case is None:
                raise NotFound
            code = invite(s, reference=case.reference, note=note or None, created_by=user.id)
            audit(s, user, "invite", "case", case.id, case_id=case.id)
            text = invitation_text(code, _config(request).service.settings.telegram_bot_username)
        return render(request, "invitation.html", {"user": user, "case": case, "text": text})

    @app.post("/admin/users", dependencies=[Csrf])
    def admin_create_user(
        request: Request,
        user: Administrator,
        email: Annotated[str, Form()],
        name: Annotated[str, Form()],
        role: Annotated[str, Form()],
        organisation: Annotated[str, Form()] = "",
    ) -> Response:
        """A new staff account; its password and two-factor secret are shown once, never stored in clear."""
        with _db(request) as s:
            account = create_user(
                s, email=email, name=name.strip(), role=role, organisation=organisation.strip() or None
            )
            audit(s, user, "create", "staff_user", account.user.id, detail=account.user.role)
            details = {
                "email": account.user.email,
                "password": account.password,
                "totp_secret": account.totp_secret,
                "totp_uri": provisioning_uri(account.user),
            }
        return render(request, "new_account.html", {"user": user, "account": details})

    @app.post("/admin/users/{user_id}/unlock", dependencies=[Csrf])
    def admin_unlock(request: Request, user: Administrator, user_id: int) -> Response:
        """Lift a lockout after repeated failed logins."""
        with _db(request) as s:
            target = s.get(StaffUser, user_id)
            if target is None:
                raise NotFound
            target.locked_until, target.failed_logins = None, 0
            audit(s, user, "unlock", "staff_user", target.id)
        return redirect(request, "/admin")

    @app.post("/admin/users/{user_id}/active", dependencies=[Csrf])
    def admin_set_active(
        request: Request, user: Administrator, user_id: int, active: Annotated[str, Form()]
    ) -> Response:
        """Switch an account off (it can no longer log in; its sessions end) or on again."""
        with _db(request) as s:
            target = s.get(StaffUser, user_id)
            if target is None:
                raise NotFound
            if target.id == user.id:
                raise AdminError(t("You cannot switch off your own account."))
            target.active = active == "yes"
            audit(s, user, "status", "staff_user", target.id, detail="active" if target.active else "switched off")
        return redirect(request, "/admin")

    @app.get("/admin/audit", response_class=HTMLResponse)
    def audit_log(request: Request, user: Administrator, page: int = 1) -> Response:
        """Who read, exported, assigned or changed what, newest first."""
        page = max(page, 1)
        with _db(request) as s:
            entries = s.scalars(
                select(AuditEntry).order_by(AuditEntry.id.desc()).offset((page - 1) * 100).limit(100)
            ).all()
            names = {u.id: u.display_name for u in s.scalars(select(StaffUser))}
        return render(request, "audit.html", {"user": user, "entries": entries, "names": names, "page": page})
