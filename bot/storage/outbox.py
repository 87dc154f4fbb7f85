"""Putting a message in the durable outbox for a person, on the channel they last used."""

from __future__ import annotations

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from bot.storage.models import Address, Contact, Message, utcnow

# PostgreSQL channel on which a committed turn tells dispatchers in other processes to look.
OUTBOX_CHANNEL = "dhrbot_outbox"


def announce(session: Session) -> None:
    """Wake the dispatchers of every process when this transaction commits (PostgreSQL only).

    Dispatchers in the same process are woken directly; others would otherwise find the message
    only at their next idle poll. NOTIFY is delivered at commit, and not at all on rollback.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"NOTIFY {OUTBOX_CHANNEL}"))


def latest_address(session: Session, contact: Contact) -> Address | None:
    """The address the person wrote from most recently: replies go back the way they came."""
    return session.scalars(
        select(Address).where(Address.contact_id == contact.id).order_by(Address.last_seen_at.desc(), Address.id.desc())
    ).first()


def enqueue(
    session: Session,
    contact: Contact,
    text: str,
    *,
    author: str,
    staff_id: int | None = None,
    prompted: bool = False,
    choices: list[dict[str, str]] | None = None,
) -> Message | None:
    """Queue a message the dispatcher will send (respecting safe times and discreet mode unless prompted)."""
    address = latest_address(session, contact)
    if address is None:
        return None
    message = Message(
        contact_id=contact.id,
        address_id=address.id,
        direction="out",
        channel=address.channel,
        body=text,
        choices=choices,
        author=author,
        staff_id=staff_id,
        status="queued",
        prompted=prompted,
        next_attempt_at=utcnow(),
    )
    session.add(message)
    session.flush()
    announce(session)
    return message
