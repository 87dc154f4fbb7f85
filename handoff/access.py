"""Who may see what: a chair only their own cases, an advocate only tickets routed to them or their organisation.

Every query the staff app runs for a user starts from these filters, so changing an id in a URL
finds nothing (404) rather than someone else's data.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, and_, false, or_, select
from sqlalchemy.orm import Session

from bot.storage.models import Case, StaffUser, Ticket


class Forbidden(Exception):
    """The signed-in user's role may never do this (403)."""


class NotFound(Exception):
    """Nothing this user may see has that id (404): the same answer whether or not it exists."""


def require_role(user: StaffUser, *roles: str) -> None:
    """Refuse a role that may not use a screen at all."""
    if user.role not in roles:
        raise Forbidden(user.role)


def case_filter(user: StaffUser) -> ColumnElement[bool]:
    """Cases a user may open the chair's view of (chairs: their own); advocates and administrators: none."""
    if user.role == "chair":
        return Case.chair_id == user.id
    return false()


def advocate_case_ids(user: StaffUser) -> Select[Any]:
    """Cases where the advocate is lead or deputy (a subquery)."""
    return select(Case.id).where(or_(Case.lead_advocate_id == user.id, Case.deputy_advocate_id == user.id))


def ticket_filter(user: StaffUser) -> ColumnElement[bool]:
    """Tickets an advocate may see: routed to or held by them, in their organisation's queue, or on their cases.

    Tickets of people not yet linked to a case (no organisation) are in a general queue every advocate
    sees: someone in danger must never be in a queue nobody reads.
    """
    if user.role != "advocate":
        return false()
    clauses = [
        Ticket.routed_to_id == user.id,
        Ticket.assignee_id == user.id,
        Ticket.case_id.in_(advocate_case_ids(user)),
        and_(Ticket.organisation_id.is_(None), Ticket.case_id.is_(None)),
    ]
    if user.organisation_id is not None:
        clauses.append(Ticket.organisation_id == user.organisation_id)
    return or_(*clauses)


def visible_case(session: Session, user: StaffUser, case_id: int) -> Case:
    """A case the chair may see, or NotFound."""
    require_role(user, "chair")
    case = session.scalars(select(Case).where(Case.id == case_id, case_filter(user))).first()
    if case is None:
        raise NotFound
    return case


def visible_ticket(session: Session, user: StaffUser, ticket_id: int, *, lock: bool = False) -> Ticket:
    """A ticket the advocate may see, or NotFound; `lock` holds its row until the transaction ends.

    Locking matters on PostgreSQL, where a close and a take could otherwise interleave (SQLite
    transactions here already take the write lock up front).
    """
    require_role(user, "advocate")
    query = select(Ticket).where(Ticket.id == ticket_id, ticket_filter(user))
    if lock:
        query = query.with_for_update(of=Ticket)
    ticket = session.scalars(query).first()
    if ticket is None:
        raise NotFound
    return ticket


def may_hold(session: Session, user: StaffUser, ticket: Ticket) -> bool:
    """Whether an advocate could be given this ticket (used for transfers)."""
    if user.role != "advocate" or not user.active:
        return False
    return session.scalars(select(Ticket.id).where(Ticket.id == ticket.id, ticket_filter(user))).first() is not None
