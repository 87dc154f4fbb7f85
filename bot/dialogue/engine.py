"""One message in, replies out: a single committed transaction per turn, so nothing is ever lost."""

from __future__ import annotations

import base64
import dataclasses
import logging
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Table, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.channels.registry import channel
from bot.content.helplines import Helplines
from bot.dialogue import codes
from bot.dialogue.conversation import Conversation, Turn
from bot.dialogue.first_contact import moved_notice
from bot.dialogue.messages import Choice, Inbound, Outbound
from bot.i18n import use_language
from bot.nlu.base import NLU
from bot.storage.crypto import cipher
from bot.storage.db import Database
from bot.storage.models import Address, Attachment, Contact, Message
from bot.storage.outbox import announce

log = logging.getLogger(__name__)

MESSAGES = cast(Table, Message.__table__)


class Engine:
    """The channel-neutral dialogue engine."""

    def __init__(
        self,
        db: Database,
        nlu: NLU,
        helplines: Helplines,
        *,
        max_message_chars: int = 4096,
        code_policy: codes.CodePolicy | None = None,
    ) -> None:
        self.db = db
        self.nlu = nlu
        self.helplines = helplines
        self.max_message_chars = max_message_chars
        self.code_policy = code_policy or codes.CodePolicy()

    def handle(self, inbound: Inbound) -> list[Outbound]:
        """Answer one message; the message, every answer and the replies are committed together."""
        too_long = len(inbound.text) > self.max_message_chars
        if too_long:
            # Nothing reads a message at that size (the safety check, the NLU, the form): its start is
            # kept and checked, and the person is asked kindly for shorter parts.
            inbound = dataclasses.replace(inbound, text=inbound.text[: self.max_message_chars])
        retries = 1
        while True:
            try:
                with self.db.session() as s:
                    return self._handle(s, inbound, too_long)
            except IntegrityError:
                # A provider delivered this message twice and the other delivery stored it.
                if inbound.provider_message_id and self.is_duplicate(inbound):
                    return []
                # Or two first messages from someone new raced to create their record: the other
                # one won, so answer again as the person it created.
                if not retries:
                    raise
                retries -= 1
                log.info("a new person's first messages arrived together; answering again")

    def language_of(self, channel: str, address: str) -> str | None:
        """The language a person chose, if they have chosen one (the web chat follows it)."""
        indexes = cipher().blind_indexes(f"{channel}:{address}")
        with self.db.session() as s:
            return s.scalar(
                select(Contact.language)
                .join(Address, Address.contact_id == Contact.id)
                .where(Address.channel == channel, Address.address_index.in_(indexes))
            )

    def last_said(self, channel: str, address: str) -> list[tuple[int, Outbound]] | None:
        """What was said to the person since they last wrote, each with its message id (None if we have
        never met them).

        A web chat page that is reloaded shows this again, instead of sending a message on the
        person's behalf that could be taken as an answer; the ids let it ignore the same message
        arriving live.
        """
        indexes = cipher().blind_indexes(f"{channel}:{address}")
        with self.db.session() as s:
            found = s.scalars(
                select(Address).where(Address.channel == channel, Address.address_index.in_(indexes))
            ).first()
            if found is None:
                return None
            last_in = s.scalar(
                select(func.max(Message.id)).where(Message.contact_id == found.contact_id, Message.direction == "in")
            )
            said = s.scalars(
                select(Message)
                .where(Message.contact_id == found.contact_id, Message.direction == "out", Message.id > (last_in or 0))
                .order_by(Message.id)
            )
            return [
                (m.id, Outbound(m.body, tuple(Choice(c["value"], c["label"]) for c in m.choices or ()), m.pick_several))
                for m in said
                if m.status not in ("failed", "suppressed", "awaiting_reply")
            ]

    def is_duplicate(self, inbound: Inbound) -> bool:
        """Whether this provider message was already handled (webhooks are retried)."""
        with self.db.session() as s:
            return _already_seen(s, inbound)

    def _handle(self, s: Session, inbound: Inbound, too_long: bool = False) -> list[Outbound]:
        # A repeated provider id is caught by the unique constraint when the message is inserted
        # (see `handle`), which saves a look-up on every other message.
        address, contact, resume, earlier = self._address_and_person(s, inbound)
        contact.last_inbound_at = inbound.received_at
        message = _row(contact, address, inbound, direction="in", text=inbound.text, author="family")
        message.update(provider_message_id=inbound.provider_message_id, status="received", next_attempt_at=None)
        media_message_id = self._keep_media(s, message, inbound) if inbound.media else None
        turn = Turn(
            session=s,
            contact=contact,
            inbound=inbound,
            nlu=self.nlu,
            helplines=self.helplines,
            too_long=too_long,
            max_message_chars=self.max_message_chars,
            code_policy=self.code_policy,
            resume=resume,
        )
        with use_language(contact.language):
            Conversation(turn).respond()
        message["intent"] = turn.intent
        rows = [] if media_message_id else [message]
        if media_message_id and turn.intent:
            s.execute(update(Message).where(Message.id == media_message_id).values(intent=turn.intent))
        # Synchronous channels (the web page, the terminal) show the replies at once; the others send
        # them from the outbox.
        outbox = not channel(inbound.channel).synchronous
        for reply in turn.replies:
            row = _row(contact, address, inbound, direction="out", text=reply.text, author="bot", choices=reply.choices)
            rows.append(row | {"status": "queued" if outbox else "sent", "pick_several": reply.many})
        if rows:
            # The message and its replies in one multi-row INSERT, in order, so that the replies
            # always come after the message they answer. (Core, not the ORM's unit of work: these
            # rows are never read back in this turn, and this is the busiest write in the service.)
            s.execute(insert(MESSAGES), rows)
        if earlier is not None and earlier.id != address.id:
            outbox = self._tell_earlier_channel(s, contact, earlier, inbound) or outbox
        if outbox and turn.replies:
            announce(s)
        return turn.replies

    def _tell_earlier_channel(self, s: Session, contact: Contact, earlier: Address, inbound: Inbound) -> bool:
        """Tell the person, where they last wrote from, that their conversation moved (someone may have
        their code); unprompted, so it keeps their safe times, and worded discreetly if they asked.
        Returns whether it waits in the outbox."""
        with use_language(contact.language):
            text = moved_notice(contact.discreet)
        queued = not channel(earlier.channel).synchronous
        row = _row(contact, earlier, inbound, direction="out", text=text, author="system")
        row |= {"channel": earlier.channel, "status": "queued" if queued else "sent", "prompted": False}
        s.execute(insert(MESSAGES), [row])
        return queued

    def _keep_media(self, s: Session, message: dict[str, Any], inbound: Inbound) -> int:
        """Store the message now, with its voice notes or photos, encrypted; returns the message's id."""
        message_id: int = s.execute(insert(MESSAGES).returning(MESSAGES.c.id), message).scalar_one()
        for media in inbound.media:
            s.add(
                Attachment(
                    contact_id=message["contact_id"],
                    message_id=message_id,
                    content_type=media.content_type,
                    data=base64.b64encode(media.data).decode(),
                )
            )
        return message_id

    def _address_and_person(
        self, s: Session, inbound: Inbound
    ) -> tuple[Address, Contact, codes.ResumeAttempt | None, Address | None]:
        """The address and the person behind it, locked so that one person's messages are answered one
        at a time; someone new gets a record, and a RESUME code moves the address to its owner.

        Also what came of a RESUME code, and (when it moved the conversation) the person's earlier address.
        """
        # Every key's index: during a key rotation an address may still carry the older one.
        indexes = cipher().blind_indexes(f"{inbound.channel}:{inbound.address}")
        index = indexes[0]
        # The usual case, in one round trip: the address and its person, locked.
        stmt = (
            select(Address, Contact)
            .join(Contact, Contact.id == Address.contact_id)
            .where(Address.channel == inbound.channel, Address.address_index.in_(indexes))
            .execution_options(populate_existing=True)
        )
        if self.db.is_postgres:
            stmt = stmt.with_for_update(of=Contact)
        row = s.execute(stmt).first()
        address = row[0] if row is not None else None
        resume = codes.resume_code_in(inbound.text)
        attempt = None
        if resume:
            client = f"{inbound.channel}:{inbound.address}"
            attempt = codes.try_resume(s, self.code_policy, resume, client, inbound.received_at)
            owner = attempt.owner
            if owner is not None and (address is None or address.contact_id != owner.id):
                earlier = _latest_address(s, owner.id)
                if address is None:
                    address = Address(channel=inbound.channel, address=inbound.address, address_index=index)
                    s.add(address)
                address.contact_id = owner.id
                s.flush()
                return address, self._lock(s, owner.id), attempt, earlier
        if row is not None:
            return row[0], row[1], attempt, None
        # Someone new. If their first two messages arrive together, one of these inserts fails on
        # the unique address and `handle` answers that message again, as the person created here.
        contact = Contact(state="new", state_data={}, language=None)
        address = Address(channel=inbound.channel, address=inbound.address, address_index=index, contact=contact)
        s.add_all([contact, address])
        s.flush()
        return address, contact, attempt, None

    def _lock(self, s: Session, contact_id: int) -> Contact:
        """The contact, locked so that one person's messages are answered one at a time."""
        # populate_existing: read the row as it is once locked, even if this session has seen it.
        stmt = select(Contact).where(Contact.id == contact_id).execution_options(populate_existing=True)
        if self.db.is_postgres:
            stmt = stmt.with_for_update()
        return s.scalars(stmt).one()


def _latest_address(s: Session, contact_id: int) -> Address | None:
    """The address a person last wrote from."""
    address_id = s.scalar(
        select(Message.address_id)
        .where(Message.contact_id == contact_id, Message.direction == "in")
        .order_by(Message.id.desc())
        .limit(1)
    )
    return s.get(Address, address_id) if address_id is not None else None


def _already_seen(s: Session, inbound: Inbound) -> bool:
    return (
        s.scalars(
            select(Message.id).where(
                Message.channel == inbound.channel, Message.provider_message_id == inbound.provider_message_id
            )
        ).first()
        is not None
    )


def _row(
    contact: Contact,
    address: Address,
    inbound: Inbound,
    *,
    direction: str,
    text: str,
    author: str,
    choices: Sequence[Choice] = (),
) -> dict[str, Any]:
    """One row of the messages table for this turn (every row names the same columns, for one INSERT)."""
    return {
        "contact_id": contact.id,
        "address_id": address.id,
        "direction": direction,
        "channel": inbound.channel,
        "body": text,
        "choices": [{"value": c.value, "label": c.label} for c in choices] or None,
        "pick_several": False,
        "author": author,
        "status": "queued",
        "provider_message_id": None,
        "intent": None,
        "prompted": True,
        "next_attempt_at": inbound.received_at,
        "created_at": inbound.received_at,
    }
