"""The advocate inbox's folders, each a small named class owning its query: urgent first, then longest waiting."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar

from sqlalchemy import ColumnElement, Select, and_, case, or_, select
from sqlalchemy.orm import Session

from bot.storage.models import StaffUser, Ticket
from handoff.access import require_role, ticket_filter
from handoff.i18n import t
from handoff.queue import OPEN_STATUSES, URGENT, WAITING

LIMIT = 200


class Folder(ABC):
    """A view of the tickets an advocate may see."""

    slug: ClassVar[str]
    label: ClassVar[str]

    @abstractmethod
    def condition(self, user: StaffUser) -> ColumnElement[bool]:
        """What, on top of what the user may see, belongs in this folder."""

    def query(self, user: StaffUser) -> Select[Any]:
        """The folder's tickets; uses ix_tickets_queue (status, priority, opened_on)."""
        require_role(user, "advocate")
        urgent_first = case((Ticket.priority == URGENT, 0), else_=1)
        open_first = case((Ticket.status.in_(OPEN_STATUSES), 0), else_=1)
        return (
            select(Ticket)
            .where(ticket_filter(user), self.condition(user))
            .order_by(open_first, urgent_first, Ticket.opened_on, Ticket.id)
            .limit(LIMIT)
        )

    def tickets(self, session: Session, user: StaffUser) -> list[Ticket]:
        """Run the query."""
        return list(session.scalars(self.query(user)))


class Mine(Folder):
    """Open tickets I hold, or that are routed to me and waiting."""

    slug = "mine"
    label = t("Mine: held by me or waiting for me")

    def condition(self, user: StaffUser) -> ColumnElement[bool]:
        return and_(
            Ticket.status.in_(OPEN_STATUSES),
            or_(Ticket.assignee_id == user.id, and_(Ticket.assignee_id.is_(None), Ticket.routed_to_id == user.id)),
        )


class NotTakenYet(Folder):
    """Waiting tickets nobody has taken yet, whoever they are waiting for."""

    slug = "unassigned"
    label = t("Not taken yet")

    def condition(self, user: StaffUser) -> ColumnElement[bool]:
        return and_(Ticket.status == WAITING, Ticket.assignee_id.is_(None))


class AllVisible(Folder):
    """Every ticket I may see, open ones first."""

    slug = "all"
    label = t("All I may see")

    def condition(self, user: StaffUser) -> ColumnElement[bool]:
        return Ticket.id.is_not(None)


FOLDERS: dict[str, Folder] = {f.slug: f for f in (Mine(), NotTakenYet(), AllVisible())}
