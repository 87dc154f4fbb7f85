"""Opening and routing tickets: a person needs a human, and the right advocate should see it first."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.storage.models import Case, Contact, Ticket, TicketEvent, utcnow

OPEN_STATUSES = ("waiting", "active")
# The ticket event that alerts the advocate holding a conversation to an urgent family message.
URGENT_MESSAGE = "urgent_message"


def open_ticket(session: Session, contact: Contact, *, reason: str, urgent: bool) -> Ticket:
    """Ask for a human: reuse the person's open ticket (raising its priority if needed) or open one."""
    ticket = session.scalars(
        select(Ticket).where(Ticket.contact_id == contact.id, Ticket.status.in_(OPEN_STATUSES))
    ).first()
    now = utcnow()
    if ticket is not None:
        if urgent and ticket.priority != "urgent":
            ticket.priority = "urgent"
            ticket.reason = reason
            session.add(TicketEvent(ticket_id=ticket.id, kind="raised_urgent"))
        ticket.last_activity_on = now
        return ticket
    ticket = Ticket(
        contact_id=contact.id,
        case_id=contact.case_id,
        reason=reason,
        priority="urgent" if urgent else "normal",
        status="waiting",
        opened_on=now,
        last_activity_on=now,
    )
    route(session, ticket, contact)
    session.add(ticket)
    session.flush()
    session.add(TicketEvent(ticket_id=ticket.id, kind="opened", note=None))
    return ticket


def alert_holder(session: Session, contact: Contact, *, reason: str) -> Ticket:
    """An urgent message while an advocate holds the conversation: raise the ticket and alert them.

    The bot only shows the emergency line; the advocate sees the alert in their open conversation
    (its live view changes) and the ticket moves to the top of their inbox as urgent.
    """
    ticket = open_ticket(session, contact, reason=reason, urgent=True)
    session.add(TicketEvent(ticket_id=ticket.id, kind=URGENT_MESSAGE))
    return ticket


def route(session: Session, ticket: Ticket, contact: Contact) -> None:
    """Named advocate first, then the case's lead, then its deputy, else the organisation's queue."""
    case = session.get(Case, contact.case_id) if contact.case_id else None
    candidates = [contact.advocate_id]
    if case is not None:
        candidates += [case.lead_advocate_id, case.deputy_advocate_id]
    ticket.routed_to_id = next((c for c in candidates if c is not None), None)
    ticket.organisation_id = case.organisation_id if case is not None else None
