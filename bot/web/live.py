"""The web chat as a channel: its sender, its sessions, and new messages reaching open pages live.

A message for a web chat person (an advocate's reply, a reminder, a chair's update) goes through the
outbox like any other; the web sender "delivers" it by marking it sent. Open pages learn of it from
the database, which every web process and worker shares: one light query per web process every
POLL_SECONDS while any page is open (not one per page), then one query for each page that has news.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import anyio.to_thread
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.channels.base import Delivery
from bot.storage.crypto import cipher
from bot.storage.db import Database
from bot.storage.models import Address, EndedChatSession, Message, utcnow

CHANNEL = "web"
POLL_SECONDS = 0.5
# A message is looked for again this long after the moment it was marked sent: its transaction may
# commit after a later one was already seen (each page is told a message once; the page also
# ignores one it already shows).
OVERLAP = timedelta(seconds=10)
SHOWN_STATUSES = ("sent", "delivered", "read")


class WebSender:
    """The web chat's output side: the message is there for the page as soon as it is marked sent."""

    channels = frozenset({CHANNEL})

    def send(self, delivery: Delivery) -> str:
        """Nothing to call: open pages read sent messages from the database."""
        return "web-" + secrets.token_hex(8)

    def close(self) -> None:
        """Nothing to release."""


# ---------------------------------------------------------------------------------------- sessions
class ChatSessions:
    """Web chat sessions: keys made and signed here (a key the browser chose is refused), ended on the
    server by quick exit. Nothing is written until a session ends, so opening the page costs no row."""

    def __init__(self, db: Database, secret: str) -> None:
        self.db = db
        # A key of its own, derived from SECRET_KEY, so a chat session can never pass for anything else.
        self._key = hmac.new(secret.encode(), b"dhrbot web chat session", hashlib.sha256).digest()

    def _signature(self, token: str) -> str:
        return hmac.new(self._key, token.encode(), hashlib.sha256).hexdigest()[:32]

    def _made_here(self, key: str | None) -> bool:
        if not key or len(key) > 100:
            return False
        token, _, signature = key.rpartition(".")
        return bool(token) and hmac.compare_digest(signature, self._signature(token))

    def start(self) -> str:
        """A new session key for the cookie."""
        token = secrets.token_urlsafe(24)
        return f"{token}.{self._signature(token)}"

    def is_live(self, key: str | None) -> bool:
        """Whether the cookie holds a key made here that quick exit has not ended."""
        if not self._made_here(key):
            return False
        assert key is not None
        with self.db.session() as s:
            return not _ended(s, key)

    def end(self, key: str | None) -> None:
        """Quick exit: the session ends on the server, so the old cookie no longer opens the conversation."""
        if not self._made_here(key):
            return
        assert key is not None
        with self.db.session() as s:
            if not _ended(s, key):
                s.add(EndedChatSession(key_hash=_key_hash(key), ended_at=utcnow()))

    def page_state(self, key: str) -> tuple[bool, int | None]:
        """Whether the session is still live, and the person it speaks for (a RESUME code can move it)."""
        if not self._made_here(key):
            return False, None
        index = cipher().blind_index(f"{CHANNEL}:{key}")
        with self.db.session() as s:
            contact_id = s.scalar(
                select(Address.contact_id).where(Address.channel == CHANNEL, Address.address_index == index)
            )
            return not _ended(s, key), contact_id


def _key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _ended(s: Session, key: str) -> bool:
    return s.scalar(select(EndedChatSession.id).where(EndedChatSession.key_hash == _key_hash(key))) is not None


# ---------------------------------------------------------------------------------------- messages
@dataclass(frozen=True)
class Shown:
    """One message for the page: its id (so it is never shown twice) and what to show."""

    id: int
    text: str
    author: str
    sent_at: datetime

    def as_json(self) -> dict[str, object]:
        """The message as the page reads it."""
        return {"id": self.id, "text": self.text, "author": self.author}


def last_inbound_id(db: Database, contact_id: int) -> int:
    """The id of the person's latest message to us (0 if none)."""
    with db.session() as s:
        found = s.scalar(
            select(func.max(Message.id)).where(Message.contact_id == contact_id, Message.direction == "in")
        )
        return int(found or 0)


def sent_to(db: Database, contact_id: int, since: datetime) -> list[Shown]:
    """Messages the outbox delivered to this person's web chat since a moment, oldest first."""
    with db.session() as s:
        rows = s.scalars(
            select(Message)
            .where(
                Message.contact_id == contact_id,
                Message.channel == CHANNEL,
                Message.direction == "out",
                Message.sent_at >= since,
                Message.status.in_(SHOWN_STATUSES),
            )
            .order_by(Message.sent_at, Message.id)
            .limit(200)
        ).all()
        return [Shown(m.id, m.body, m.author, m.sent_at) for m in rows if m.sent_at is not None]


def sent_since(db: Database, since: datetime) -> list[tuple[int, int]]:
    """(message, person) for every web chat message sent since a moment: one indexed query for all pages."""
    with db.session() as s:
        rows = s.execute(
            select(Message.id, Message.contact_id).where(
                Message.channel == CHANNEL, Message.sent_at >= since, Message.direction == "out"
            )
        ).all()
        return [(row.id, row.contact_id) for row in rows]


class LiveFeed:
    """Wakes the open pages of this web process whose person has new messages."""

    def __init__(self, db: Database, clock: Callable[[], datetime] = utcnow) -> None:
        self.db = db
        self.clock = clock
        self._pages: dict[int, set[asyncio.Event]] = {}
        self._news_since: datetime | None = None
        self._seen: dict[int, datetime] = {}  # message id -> when first seen, so each wakes its page once
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def watch(self, contact_id: int, wake: asyncio.Event) -> None:
        """Wake `wake` when this person is sent something; polling runs while anyone is watched."""
        self._pages.setdefault(contact_id, set()).add(wake)
        loop = asyncio.get_running_loop()
        if self._task is None or self._task.done() or self._loop is not loop:
            self._loop = loop
            self._task = loop.create_task(self._poll())

    def forget(self, contact_id: int, wake: asyncio.Event) -> None:
        """The page closed (or now speaks for someone else)."""
        pages = self._pages.get(contact_id)
        if pages is not None:
            pages.discard(wake)
            if not pages:
                del self._pages[contact_id]

    async def _poll(self) -> None:
        self._news_since = self.clock() - OVERLAP
        while self._pages:
            started = self.clock()
            try:
                sent = await anyio.to_thread.run_sync(sent_since, self.db, self._news_since)
            except Exception:  # noqa: BLE001 - the database is away: the pages wait, and we look again
                sent = []
            else:
                self._news_since = started - OVERLAP
            for message_id, contact_id in sent:
                if message_id in self._seen:
                    continue
                self._seen[message_id] = started
                for wake in self._pages.get(contact_id, ()):
                    wake.set()
            self._seen = {m: at for m, at in self._seen.items() if at >= started - 2 * OVERLAP}
            await asyncio.sleep(POLL_SECONDS)
        self._task = None
