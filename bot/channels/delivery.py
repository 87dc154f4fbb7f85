"""Delivery receipts from a provider, recorded on the outbound message by the provider's id for it."""

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
