"""Asking again, gently, on the date a person chose when they said "not now"."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from bot.dialogue import form
from bot.dialogue.contributions import latest_versions
from bot.i18n import _, use_language
from bot.storage.models import Contact, ContributionVersion
from bot.storage.outbox import enqueue


def due_reminders(session: Session, today: date) -> list[tuple[Contact, str]]:
    """People whose latest answers say "ask me again" on or before today, not yet asked."""
    due = []
    for version in session.scalars(latest_versions().order_by(ContributionVersion.contact_id)):
        contact_id = version.contact_id
        when = version.answers.get(form.ASK_AGAIN_ON)
        if form.WAY_NOT_NOW not in (version.answers.get(form.WAYS) or []) or not isinstance(when, str):
            continue
        if when == form.SKIPPED:
            continue
        # Locked, so that several workers never send the same reminder twice.
        contact = session.get(Contact, contact_id, with_for_update=True)
        if contact is None or contact.stopped or date.fromisoformat(when) > today:
            continue
        if contact.state_data.get("reminded_for") == when:
            continue
        due.append((contact, when))
    return due


def send_due_reminders(session: Session, today: date) -> int:
    """Queue a gentle reminder for each person due one (sent at their safe times); returns how many."""
    sent = 0
    for contact, when in due_reminders(session, today):
        with use_language(contact.language):
            text = _(
                "Hello. You asked us to check in with you about now. There is no pressure. If you would like to tell us how you want to take part, send MENU. If not, you don't need to reply."
            )
        if enqueue(session, contact, text, author="system", prompted=False) is not None:
            contact.state_data = {**contact.state_data, "reminded_for": when}
            sent += 1
    return sent
