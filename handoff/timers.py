"""The handoff timer: every minute, urgent tickets nobody has taken move to the next person.

Run it beside the outbound dispatcher: `start_escalation_thread(service)` in `dhrbot serve`, or
`escalation_loop(service, stop)` in `dhrbot worker` (several workers are safe on PostgreSQL).
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime

from bot.service import Service
from bot.storage.db import Database
from bot.storage.models import utcnow
from handoff.tickets import escalate_overdue

log = logging.getLogger(__name__)
EVERY_SECONDS = 60.0


def escalation_tick(db: Database, now: datetime | None = None) -> int:
    """One pass, in one transaction; returns how many tickets moved on."""
    with db.session() as s:
        moved = escalate_overdue(s, now or utcnow())
        for ticket in moved:
            log.warning("urgent ticket %s not taken in time: escalated (%s so far)", ticket.id, ticket.escalations)
        return len(moved)


def escalation_loop(service: Service, stop: threading.Event, every: float = EVERY_SECONDS) -> None:
    """Tick until stopped; a failed tick is logged and retried next time (never silently ends the loop)."""
    while not stop.is_set():
        try:
            escalation_tick(service.db)
        except Exception:
            log.exception("escalation tick failed")
        stop.wait(every)


def start_escalation_thread(service: Service) -> tuple[threading.Thread, threading.Event]:
    """The timer in the background of this process; set the event to stop it."""
    stop = threading.Event()
    thread = threading.Thread(target=escalation_loop, args=(service, stop), name="dhrbot-escalation", daemon=True)
    thread.start()
    return thread, stop
