"""The handoff timer: every minute, urgent tickets nobody has taken move to the next person.

`bot.timers` runs it every minute in `dhrbot serve` and `dhrbot worker` (several workers are safe
on PostgreSQL).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from bot.storage.db import Database
from bot.storage.models import utcnow
from handoff.tickets import ESCALATE_URGENT_AFTER, escalate_overdue

log = logging.getLogger(__name__)


def escalation_tick(db: Database, now: datetime | None = None, after: timedelta = ESCALATE_URGENT_AFTER) -> int:
    """One pass, in one transaction; returns how many tickets moved on."""
    with db.session() as s:
        moved = escalate_overdue(s, now or utcnow(), after)
        for ticket in moved:
            log.warning("urgent ticket %s not taken in time: escalated (%s so far)", ticket.id, ticket.escalations)
        return len(moved)
