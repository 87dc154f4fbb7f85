"""Putting a message in the durable outbox for a person, on the channel they last used."""

from __future__ import annotations

import time

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from bot.storage.models import Address, Contact, Message, utcnow

# PostgreSQL channel on which a committed turn tells dispatchers in other processes to look.
OUTBOX_CHANNEL = "dhrbot_outbox"
# Seconds between two notifications from one process: under load a dispatcher is busy anyway, and
# each NOTIFY costs a statement and makes commits queue for PostgreSQL's notification lock.
ANNOUNCE_EVERY = 0.05
_last_announced = 0.0


def announce(session: Session) -> None:
    """Wake the dispatchers of every process when this transaction commits (PostgreSQL only).

    Dispatchers in the same process are woken directly; others would otherwise find the message
    only at their next idle poll. NOTIFY is delivered at commit, and not at all on rollback. A
    dispatcher that has just worked looks again after ANNOUNCE_EVERY, so skipped ones are not missed.
    """
    global _last_announced
    if session.get_bind().dialect.name != "postgresql":
        return
    now = time.monotonic()
    if now - _last_announced < ANNOUNCE_EVERY:
        return
    _last_announced = now
    session.execute(text(f"NOTIFY {OUTBOX_CHANNEL}"))


def latest_address(session: Session, contact: Contact) -> Address | None:
    """The address the person last wrote from, and still holds: replies go back the way they came."""
    address = session.scalars(
        select(Address)
        .join(Message, Message.address_id == Address.id)
        .where(Message.contact_id == contact.id, Message.direction == "in", Address.contact_id == contact.id)
        .order_by(Message.id.desc())
        .limit(1)
    ).first()
    if address is None:  # nothing received yet: their newest address
        address = session.scalars(
            select(Address).where(Address.contact_id == contact.id).order_by(Address.id.desc())
        ).first()
    return address


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
