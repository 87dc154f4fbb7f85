"""What the provider tells us about messages we sent: delivery receipts, and taps on old buttons."""

from __future__ import annotations

from sqlalchemy import select

from bot.channels.twilio_channel import OPTED_OUT
from bot.storage.db import Database
from bot.storage.models import Contact, Message

# Receipts can arrive out of order: a status only ever moves forward.
_RANK = {"queued": 0, "sending": 0, "sent": 1, "delivered": 2, "read": 3}


def record_delivery_status(db: Database, provider_id: str, status: str, error_code: str | None = None) -> bool:
    """Record a Twilio status callback; False if no message of ours has that id."""
    with db.session() as s:
        message = s.scalars(
            select(Message).where(Message.provider_id == provider_id, Message.direction == "out")
        ).first()
        if message is None:
            return False
        if status in ("failed", "undelivered"):
            if message.status not in ("delivered", "read"):
                message.status = "failed"
                message.last_error = f"twilio {status}" + (f" error {error_code}" if error_code else "")
            if error_code and error_code.strip() == str(OPTED_OUT):
                contact = s.get(Contact, message.contact_id)
                if contact is not None:
                    contact.stopped = True
        elif status in ("delivered", "read") and _RANK.get(message.status, -1) in range(1, _RANK[status]):
            message.status = status
        return True


def stale_tap(db: Database, provider_id: str) -> tuple[bool, str | None]:
    """Whether a tapped keyboard is out of date (the person wrote, or newer buttons came, since)."""
    with db.session() as s:
        tapped = s.execute(
            select(Message.id, Message.contact_id).where(Message.provider_id == provider_id, Message.direction == "out")
        ).first()
        if tapped is None:
            return False, None  # not one of ours that we know of: let the dialogue judge the number
        contact = s.get(Contact, tapped.contact_id)
        newer = s.execute(
            select(Message.direction, Message.choices)
            .where(Message.contact_id == tapped.contact_id, Message.id > tapped.id)
            .limit(50)
        ).all()
        stale = any(row.direction == "in" or row.choices for row in newer)
        return stale, contact.language if contact else None
