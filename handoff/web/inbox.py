"""The advocate inbox: folders of tickets, one conversation with its history, and the named operations on it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import HTMLResponse, StreamingResponse
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from bot.i18n import BY_CODE
from bot.storage.models import Case, Contact, StaffUser, Ticket
from bot.storage.models import Message as ChatMessage
from handoff import canned, tickets
from handoff.access import NotFound, may_hold, ticket_filter, visible_ticket
from handoff.audit import audit
from handoff.folders import FOLDERS
from handoff.i18n import t
from handoff.queue import ACTIVE, OPEN_STATUSES
from handoff.ticket_view import ticket_view
from handoff.web.common import Advocate, Csrf, config_of, database, redirect, render


def _ticket_rows(s: Session, found: list[Ticket]) -> list[dict[str, Any]]:
    """What the inbox shows of each ticket, in four queries however long the list is."""
    contact_ids = {tk.contact_id for tk in found}
    contacts = {c.id: c for c in s.scalars(select(Contact).where(Contact.id.in_(contact_ids)))}
    case_ids = {tk.case_id for tk in found if tk.case_id}
    case_refs = {
        row.id: row.reference for row in s.execute(select(Case.id, Case.reference).where(Case.id.in_(case_ids)))
    }
    staff_ids = {i for tk in found for i in (tk.assignee_id, tk.routed_to_id) if i}
    staff = select(StaffUser.id, StaffUser.display_name).where(StaffUser.id.in_(staff_ids))
    names = {row.id: row.display_name for row in s.execute(staff)}
    newest = (
        select(func.max(ChatMessage.id))
        .where(ChatMessage.contact_id.in_(contact_ids), ChatMessage.direction == "in")
        .group_by(ChatMessage.contact_id)
    )
    last_said = {m.contact_id: m for m in s.scalars(select(ChatMessage).where(ChatMessage.id.in_(newest)))}
    rows = []
    for ticket in found:
        contact = contacts.get(ticket.contact_id)
        language = BY_CODE.get(contact.language or "") if contact else None
        last = last_said.get(ticket.contact_id)
        rows.append(
            {
                "ticket": ticket,
                "case": case_refs.get(ticket.case_id or 0, t("not linked to a case")),
                "language": language.english_name if language else t("language not chosen yet"),
                "holder": names.get(ticket.assignee_id or 0, ""),
                "last_inbound": contact.last_inbound_at if contact else None,
                "preview": _preview(last.body) if last is not None and last.body else "",
                "routed": names.get(ticket.routed_to_id or 0, t("organisation queue")),
            }
        )
    return rows


def _preview(body: str, length: int = 90) -> str:
    """The start of a family member's latest message, on one line."""
    flat = " ".join(body.split())
    return flat if len(flat) <= length else flat[: length - 1] + "…"


router = APIRouter()


@router.get("/inbox/{folder}", response_class=HTMLResponse)
def inbox(request: Request, user: Advocate, folder: str) -> Response:
    """A folder of the inbox: urgent first, then longest waiting."""
    chosen = FOLDERS.get(folder)
    if chosen is None:
        raise NotFound
    with database(request) as s:
        rows = _ticket_rows(s, chosen.tickets(s, user))
        counts = {slug: len(f.tickets(s, user)) for slug, f in FOLDERS.items()}
    context = {"user": user, "folders": FOLDERS, "folder": chosen, "rows": rows, "counts": counts, "live": "inbox"}
    if request.query_params.get("fragment"):
        return render(request, "_ticket_list.html", context)
    return render(request, "inbox.html", context)


@router.get("/tickets/{ticket_id}", response_class=HTMLResponse)
def ticket_page(request: Request, user: Advocate, ticket_id: int) -> Response:
    """One conversation: why it was raised, by which message, the escalation clock, and the history; audited."""
    after = timedelta(minutes=config_of(request).service.settings.urgent_escalation_minutes)
    with database(request) as s:
        ticket = visible_ticket(s, user, ticket_id)
        view = ticket_view(s, ticket, user, after)
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
            detail=f"conversation of contact {view.contact.id}",
        )
        context = {
            "user": user,
            "view": view,
            "ticket": ticket,
            "contact": view.contact,
            "canned": canned.all_rendered(view.contact.language),
            "others": others,
            "holds": ticket.status == ACTIVE and ticket.assignee_id == user.id,
            "live": "ticket",
            "last_message_id": view.last_message_id,
        }
        if request.query_params.get("fragment"):
            return render(request, "_conversation.html", context)
        return render(request, "ticket.html", context)


def _operate(
    request: Request, user: StaffUser, ticket_id: int, op: Callable[[Session, Ticket, StaffUser], Any]
) -> Response:
    with database(request) as s:
        me = s.get(StaffUser, user.id)
        assert me is not None
        ticket = visible_ticket(s, me, ticket_id, lock=True)
        op(s, ticket, me)
    return redirect(request, f"/tickets/{ticket_id}")


@router.post("/tickets/{ticket_id}/take", dependencies=[Csrf])
def take(request: Request, user: Advocate, ticket_id: int) -> Response:
    """Take the conversation: the bot goes silent for this person."""

    def op(s: Session, ticket: Ticket, me: StaffUser) -> None:
        if not tickets.take(s, ticket, me):
            raise tickets.TicketError(t("Someone else has already taken this conversation."))

    return _operate(request, user, ticket_id, op)


@router.post("/tickets/{ticket_id}/reply", dependencies=[Csrf])
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


@router.post("/tickets/{ticket_id}/note", dependencies=[Csrf])
def note(request: Request, user: Advocate, ticket_id: int, text: Annotated[str, Form()]) -> Response:
    """A private note (advocates only)."""
    return _operate(request, user, ticket_id, lambda s, ticket, me: tickets.add_note(s, ticket, me, text))


def _confirm(
    request: Request, user: StaffUser, ticket_id: int, action: str, question: str, fields: dict[str, Any]
) -> Response:
    """Ask before an action that ends or moves a conversation; the same form, posted again with confirmed=yes."""
    with database(request) as s:
        visible_ticket(s, user, ticket_id)
    return render(
        request,
        "confirm.html",
        {
            "user": user,
            "question": question,
            "action": f"/tickets/{ticket_id}/{action}",
            "fields": fields,
            "back": f"/tickets/{ticket_id}",
        },
    )


@router.post("/tickets/{ticket_id}/hand-back", dependencies=[Csrf])
def hand_back(request: Request, user: Advocate, ticket_id: int, confirmed: Annotated[str, Form()] = "") -> Response:
    """Give the conversation back to the assistant, after confirming."""
    if confirmed != "yes":
        question = t(
            "Hand this conversation back to the assistant? The family is told what happens next, and the assistant answers them again."
        )
        return _confirm(request, user, ticket_id, "hand-back", question, {})
    return _operate(request, user, ticket_id, tickets.hand_back)


@router.post("/tickets/{ticket_id}/close", dependencies=[Csrf])
def close(request: Request, user: Advocate, ticket_id: int, confirmed: Annotated[str, Form()] = "") -> Response:
    """Close the ticket, after confirming."""
    if confirmed != "yes":
        question = t("Close this ticket? The assistant answers the family again.")
        return _confirm(request, user, ticket_id, "close", question, {})
    return _operate(request, user, ticket_id, tickets.close)


@router.post("/tickets/{ticket_id}/link", dependencies=[Csrf])
def link(request: Request, user: Advocate, ticket_id: int, case_id: Annotated[int, Form()]) -> Response:
    """Link a ticket whose person is not yet on a case to a case this advocate works on."""

    def op(s: Session, ticket: Ticket, me: StaffUser) -> None:
        case = s.get(Case, case_id)
        if case is None:
            raise tickets.TicketError(t("That case does not exist."))
        tickets.link_to_case(s, ticket, me, case)

    return _operate(request, user, ticket_id, op)


@router.post("/tickets/{ticket_id}/transfer", dependencies=[Csrf])
def transfer(
    request: Request,
    user: Advocate,
    ticket_id: int,
    target_id: Annotated[int, Form()],
    confirmed: Annotated[str, Form()] = "",
) -> Response:
    """Give the ticket to another advocate who may see it, after confirming."""
    if confirmed != "yes":
        with database(request) as s:
            target = s.get(StaffUser, target_id)
            name = target.display_name if target else "?"
        question = t("Transfer this conversation to {name}?").format(name=name)
        return _confirm(request, user, ticket_id, "transfer", question, {"target_id": target_id})

    def op(s: Session, ticket: Ticket, me: StaffUser) -> None:
        target = s.get(StaffUser, target_id)
        if target is None:
            raise tickets.TicketError(t("That advocate cannot take this conversation."))
        tickets.transfer(s, ticket, me, target)

    return _operate(request, user, ticket_id, op)


@router.get("/events")
async def events(request: Request, user: Advocate, ticket: int | None = None) -> Response:
    """Server-sent events: "changed" whenever the inbox (or the open conversation) changes."""
    config = config_of(request)

    def snapshot() -> str:
        with database(request) as s:
            visible = select(func.count(Ticket.id), func.max(Ticket.last_activity_on), func.max(Ticket.id)).where(
                ticket_filter(user)
            )
            count, latest, top = s.execute(visible).one()
            # A family message to an open ticket changes the inbox too (its "last message" time).
            open_contacts = select(Ticket.contact_id).where(ticket_filter(user), Ticket.status.in_(OPEN_STATUSES))
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
