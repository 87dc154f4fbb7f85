"""Opening and routing tickets: a person needs a human, and the right advocate should see it first."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.storage.models import Case, Contact, Ticket, TicketEvent, utcnow
from handoff.audit import audit
from handoff.rota import on_call, working_now

# A ticket's life: waiting for someone, held by an advocate (the bot is silent), then returned to the bot or closed.
WAITING, ACTIVE, RETURNED, CLOSED = "waiting", "active", "returned", "closed"
OPEN_STATUSES = (WAITING, ACTIVE)
URGENT, NORMAL = "urgent", "normal"


def open_ticket(session: Session, contact: Contact, *, reason: str, urgent: bool) -> Ticket:
    """Ask for a human: reuse the person's open ticket (raising its priority if needed) or open one."""
    ticket = session.scalars(
        select(Ticket).where(Ticket.contact_id == contact.id, Ticket.status.in_(OPEN_STATUSES))
    ).first()
    now = utcnow()
    if ticket is not None:
        if urgent and ticket.priority != URGENT:
            ticket.priority = URGENT
            ticket.reason = reason
            session.add(TicketEvent(ticket_id=ticket.id, kind="raised_urgent"))
            audit(session, None, "status", "ticket", ticket.id, case_id=ticket.case_id, detail=f"urgent: {reason}")
        ticket.last_activity_on = now
        return ticket
    ticket = Ticket(
        contact_id=contact.id,
        case_id=contact.case_id,
        reason=reason,
        priority=URGENT if urgent else NORMAL,
        status=WAITING,
        opened_on=now,
        last_activity_on=now,
    )
    chain = routing_chain(session, contact, urgent=urgent, now=now)
    ticket.routed_to_id = chain[0] if chain else None
    case = session.get(Case, contact.case_id) if contact.case_id else None
    ticket.organisation_id = case.organisation_id if case is not None else None
    session.add(ticket)
    session.flush()
    session.add(TicketEvent(ticket_id=ticket.id, kind="opened", note=None))
    audit(session, None, "open", "ticket", ticket.id, case_id=ticket.case_id, detail=reason)
    return ticket


def routing_chain(
    session: Session, contact: Contact, *, urgent: bool = False, now: datetime | None = None
) -> list[int]:
    """Who a person's tickets go to, in turn: their named advocate, the case's lead, its deputy.

    An urgent ticket also goes to whoever is on call: first, if the named advocate is not working now
    (nobody must wait for Monday); last, before the organisation's queue, otherwise. After the last of
    them a ticket waits in the organisation's queue. Escalation walks the same chain.
    """
    case = session.get(Case, contact.case_id) if contact.case_id else None
    candidates = [contact.advocate_id]
    if case is not None:
        candidates += [case.lead_advocate_id, case.deputy_advocate_id]
    if urgent:
        now = now or utcnow()
        covering = on_call(session, case.organisation_id if case is not None else None, now)
        first = next((c for c in candidates if c is not None), None)
        candidates = [*covering, *candidates] if not working_now(session, first, now) else [*candidates, *covering]
    chain: list[int] = []
    for staff_id in candidates:
        if staff_id is not None and staff_id not in chain:
            chain.append(staff_id)
    return chain
