"""Work done on a clock, beside the dispatcher: escalating untaken urgent tickets, gentle reminders, retention
(closed cases past their date, and people never linked to a case who have long been silent)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import date, timedelta

from bot.dialogue.reminders import send_due_reminders
from bot.privacy import purge
from bot.service import Service
from bot.storage.models import utcnow
from handoff.timers import escalation_tick

log = logging.getLogger(__name__)
EVERY_SECONDS = 60.0


def tick(service: Service, today: date | None = None) -> None:
    """One pass of every timed job, each in its own transaction (one failing never stops the others)."""
    today = today or utcnow().date()
    jobs: dict[str, Callable[[], object]] = {
        "escalation": lambda: escalation_tick(
            service.db, after=timedelta(minutes=service.settings.urgent_escalation_minutes)
        ),
        "reminders": lambda: _in_session(service, lambda s: send_due_reminders(s, today)),
        "retention": lambda: _in_session(
            service,
            lambda s: purge(s, today, unlinked_after_days=service.settings.unlinked_contact_retention_days),
        ),
    }
    for name, job in jobs.items():
        try:
            job()
        except Exception:
            log.exception("timed job %s failed; it runs again next minute", name)


def _in_session(service: Service, work: object) -> None:
    assert callable(work)
    with service.db.session() as s:
        work(s)


def timers_loop(service: Service, stop: threading.Event, every: float = EVERY_SECONDS) -> None:
    """Tick every minute until stopped."""
    while not stop.is_set():
        tick(service)
        stop.wait(every)


def start_timers_thread(service: Service, stop: threading.Event) -> threading.Thread:
    """The timers in the background of this process, stopped by the same event as the dispatchers."""
    thread = threading.Thread(target=timers_loop, args=(service, stop), name="dhrbot-timers", daemon=True)
    thread.start()
    return thread
