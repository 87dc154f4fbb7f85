"""The durable outbox: claim due messages, apply the person's rules, send each once, retry, give up."""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import TypeVar

from sqlalchemy import and_, case, exists, func, or_, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, aliased, defer

from bot.channels.base import (
    AmbiguousSend,
    ClaimLost,
    Delivery,
    RecipientBlocked,
    Sender,
    SendError,
    reply_from_row,
)
from bot.channels.policy import next_safe_moment
from bot.channels.registry import channel
from bot.dialogue.contributions import latest_version
from bot.dialogue.messages import Outbound
from bot.i18n import use_language
from bot.service import Service
from bot.storage.models import Address, Contact, Message, utcnow
from bot.storage.outbox import ANNOUNCE_EVERY, latest_address
from bot.storage.scrub import scrub_personal

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5

# Outbox statuses (Message.status, outbound rows):
#   queued -> sending (claimed, with a lease and a fencing token) -> sent -> delivered | failed (provider callback)
#   held: not a safe time to contact the person; next_attempt_at is the start of their next safe window
#   awaiting_reply: a neutral notice or WhatsApp template went out; the content follows when they write
#   suppressed: the person had opted out; failed: permanent error, or MAX_ATTEMPTS temporary ones
# Each claim writes a new token into the rows it takes; the send checks it just before the provider call
# and the outcome is recorded only while it still holds, so a claim taken over is never sent twice.
# `unsure_since` marks an attempt whose outcome is unknown (no answer in time, or a dispatcher that died
# mid-send): the next attempt asks the provider first where it can (Twilio), and otherwise resends once.
DUE_STATUSES = ("queued", "held")


@dataclass(frozen=True)
class DispatchConfig:
    """How the dispatcher paces itself."""

    batch: int = 20
    # A dead dispatcher's claims are taken over after this. A live one renews the claims of its batch
    # every `renew_every`, so a claim always outlasts the provider call in progress (the slowest client
    # timeout, Twilio's, is 15 s) and is not taken over while its batch is worked through.
    lease: timedelta = timedelta(seconds=30)
    renew_every: timedelta = timedelta(seconds=10)
    backoff: timedelta = timedelta(seconds=30)  # doubled after each temporary failure
    max_backoff: timedelta = timedelta(hours=1)
    idle_sleep: float = 0.5
    whatsapp_template_sid: str = ""


_NEW_WORK = threading.Event()


def nudge() -> None:
    """Wake this process's dispatchers: a turn just queued replies."""
    _NEW_WORK.set()


class Dispatcher:
    """One dispatcher; run as many as you like against the same database."""

    def __init__(
        self,
        service: Service,
        senders: list[Sender],
        *,
        config: DispatchConfig | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.db = service.db
        self.config = config or DispatchConfig(whatsapp_template_sid=_template_sid(service))
        self.clock = clock
        self.senders: dict[str, Sender] = {ch: s for s in senders for ch in s.channels}
        self.token = ""  # the fencing token of this dispatcher's latest claim

    # ------------------------------------------------------------------ the loop
    def run_forever(self, stop: threading.Event) -> None:
        """Dispatch until told to stop; a database hiccup is logged and retried, never fatal."""
        last_work = 0.0
        while not stop.is_set():
            try:
                done = self.run_once()
            except Exception:  # keep the outbox moving; the error is logged in full
                log.exception("dispatcher cycle failed; retrying")
                done = 0
            if done:
                last_work = time.monotonic()
                continue
            # Sleep until a turn queues replies (woken directly, or by NOTIFY from another process),
            # or the idle interval passes (held messages coming due). Other processes notify at most
            # every ANNOUNCE_EVERY seconds, so just after some work, look again that soon.
            busy = time.monotonic() - last_work < 1.0
            _NEW_WORK.wait(ANNOUNCE_EVERY if busy else self.config.idle_sleep)
            _NEW_WORK.clear()

    def run_once(self) -> int:
        """Release answered holds, claim a batch of due messages and process each; returns how many."""
        self.release_answered()
        claimed = self.claim()
        renew_at = self.clock() + self.config.renew_every
        for n, message_id in enumerate(claimed):
            if self.clock() >= renew_at:  # a slow provider: keep the rest of the batch ours
                self.renew(claimed[n:])
                renew_at = self.clock() + self.config.renew_every
            try:
                self.process(message_id)
            except Exception:  # even recording failed (the database went away): the others still go
                log.exception("message %s: its outcome could not be recorded", message_id)
        return len(claimed)

    # ------------------------------------------------------------------ claiming
    def claim(self) -> list[int]:
        """Atomically take the due messages of a few people (and any whose dispatcher died).

        All of one person's due messages are taken together, and none while another of theirs is being
        sent, so a turn's replies arrive in the order they were written."""
        if not self.senders:
            return []
        now = self.clock()
        due = and_(
            Message.direction == "out",
            Message.channel.in_(sorted(self.senders)),
            or_(
                and_(Message.status.in_(DUE_STATUSES), Message.next_attempt_at <= now),
                and_(Message.status == "sending", Message.claimed_until < now),
            ),
        )
        in_flight = aliased(Message)
        people = (
            select(Contact.id)
            .where(
                Contact.id.in_(select(Message.contact_id).where(due)),
                ~exists().where(
                    in_flight.contact_id == Contact.id,
                    in_flight.status == "sending",
                    in_flight.claimed_until >= now,
                ),
            )
            .order_by(Contact.id)
            .limit(self.config.batch)
        )
        if self.db.is_postgres:
            # People another dispatcher is claiming (or whose turn is being answered) are skipped,
            # not waited for; the row locks last until this claim commits.
            people = people.with_for_update(skip_locked=True)
        # One conditional UPDATE: a message is ours only if it was still due when we wrote to it.
        token = secrets.token_hex(16)
        stmt = (
            update(Message)
            .where(Message.contact_id.in_(people.scalar_subquery()), due)
            .values(
                status="sending",
                claimed_until=now + self.config.lease,
                claim_token=token,
                attempts=Message.attempts + 1,
                # Taken over from a dispatcher that died: it may have been sending it. Its claim was
                # last written at most a lease before it ran out.
                unsure_since=case(
                    (Message.status == "sending", func.coalesce(Message.unsure_since, Message.claimed_until)),
                    else_=Message.unsure_since,
                ),
            )
            .returning(Message.id)
            .execution_options(synchronize_session=False)
        )
        with self.db.session() as s:
            claimed = sorted(s.scalars(stmt).all())
        self.token = token
        return claimed

    def renew(self, message_ids: list[int]) -> None:
        """Extend this dispatcher's claim on messages of its batch not yet sent (one statement)."""
        now = self.clock()
        try:
            with self.db.session() as s:
                s.execute(
                    update(Message)
                    .where(Message.id.in_(message_ids), Message.claim_token == self.token, Message.status == "sending")
                    .values(claimed_until=now + self.config.lease)
                    .execution_options(synchronize_session=False)
                )
        except DBAPIError:  # the fence still holds: what is not renewed in time is left to others
            log.warning("could not renew the outbox claims of a batch", exc_info=True)

    def release_answered(self) -> int:
        """Messages waiting for the person to write go out once they have (now prompted by them)."""
        now = self.clock()
        with self.db.session() as s:
            rows = s.execute(
                select(Message, Contact)
                .join(Contact, Contact.id == Message.contact_id)
                .options(defer(Message.body), defer(Message.media))  # one unreadable body must not stop them all
                .where(
                    Message.direction == "out",
                    Message.status == "awaiting_reply",
                    Contact.last_inbound_at > Message.next_attempt_at,
                )
                .limit(200)
            ).all()
            for message, contact in rows:
                message.status = "queued"
                message.prompted = True  # they wrote back to read it: it is now a reply they asked for
                message.next_attempt_at = now
                address = latest_address(s, contact)
                if address is not None and channel(address.channel).dispatched:
                    message.address_id, message.channel = address.id, address.channel
            return len(rows)

    # ------------------------------------------------------------------ one message
    def process(self, message_id: int) -> None:
        """Apply the person's rules to one claimed message, send it (or its stand-in) and record the outcome.

        Whatever goes wrong with this message is recorded against it alone: the rest of the batch goes on."""
        token = self.token
        try:
            decision = _retrying(partial(self._decide, message_id, token))
        except DBAPIError:
            raise  # the database, not the message: it is claimed again when the lease runs out
        except Exception as exc:  # a message that cannot be read or prepared (say, after a key change)
            log.exception("message %s could not be prepared for sending", message_id)
            failure = SendError(f"could not be read or prepared: {type(exc).__name__}", temporary=True)
            self._record_failure(message_id, token, failure)
            return
        if decision is None:
            return
        delivery, kind = decision
        sender = self.senders[delivery.channel]
        if delivery.unsure_since is not None:  # (`make chaos` explains duplicates by this line)
            log.info("message %s: an earlier attempt may have reached the provider", message_id)
        began = self.clock()
        try:
            provider_id = sender.send(delivery)
        except ClaimLost:
            log.warning("message %s: another dispatcher took it over between two parts", message_id)
            return
        except SendError as exc:
            self._record_failure(message_id, token, exc, began=began)
            return
        except Exception as exc:  # an unexpected library error is retried like a temporary one
            log.exception("unexpected error sending message %s", message_id)
            failure = SendError(f"unexpected: {type(exc).__name__}", temporary=True)
            self._record_failure(message_id, token, failure)
            return
        self._record_sent(message_id, token, provider_id, kind, delivery)

    def _decide(self, message_id: int, token: str) -> tuple[Delivery, str] | None:
        """What to send for this message now: its content, a notice, a template, or nothing yet."""
        now = self.clock()
        with self.db.session() as s:
            # The message, its person and its address in one round trip; the fence checked on the way.
            row = s.execute(
                select(Message, Contact, Address)
                .join(Contact, Contact.id == Message.contact_id)
                .outerjoin(Address, Address.id == Message.address_id)
                .where(Message.id == message_id)
            ).first()
            if row is None or not _still_ours(row[0], token, now):
                return None
            message, contact, address = row
            if message.attempts > MAX_ATTEMPTS:  # its sending kept killing the dispatcher, or never ended
                message.attempts -= 1
                _finish(message, "failed", f"gave up after {message.attempts} attempts that did not finish")
                log.warning("message %s failed: %s attempts did not finish", message.id, message.attempts)
                return None
            if address is None:
                _finish(message, "failed", "no address to send to")
                return None
            if contact.stopped and not _answers_latest_message(s, message):
                _finish(message, "suppressed", "the person opted out")
                message.attempts -= 1
                return None
            medium = channel(message.channel)
            if not message.prompted and medium.notifies:
                moment = next_safe_moment(now, _answers(s, contact), contact.timezone)
                if moment > now:
                    _finish(message, "held", None)
                    message.next_attempt_at = moment
                    message.attempts -= 1
                    return None
            reply = reply_from_row(message.body, message.choices)
            if medium.outside_reply_window(contact.last_inbound_at, now):
                return self._stand_in(s, message, contact, address, "template", now)
            if contact.discreet and not message.prompted and medium.discreet_preview is not None:
                return self._stand_in(s, message, contact, address, "notice", now)
            delivery = Delivery(
                message.channel,
                address.address,
                reply,
                parts_done=message.parts_sent,
                unsure_since=message.unsure_since,
                on_part=partial(self._record_part, message_id, token),
            )
            return delivery, "content"

    def _stand_in(
        self, s: Session, message: Message, contact: Contact, address: Address, kind: str, now: datetime
    ) -> tuple[Delivery, str] | None:
        """A notice or template asking the person to write; the content waits for their reply."""
        if _already_asked_to_reply(s, message, contact):
            _finish(message, "awaiting_reply", None)
            message.next_attempt_at = now
            message.attempts -= 1
            return None
        if kind == "template":
            if not self.config.whatsapp_template_sid:
                _finish(message, "awaiting_reply", "outside WhatsApp's 24-hour window and no template is configured")
                message.next_attempt_at = now
                return None
            stand_in = Outbound(text="(WhatsApp template asking the person to reply)")
            return Delivery(message.channel, address.address, stand_in, self.config.whatsapp_template_sid), "template"
        preview = channel(message.channel).discreet_preview
        assert preview is not None  # only channels with previews get a notice
        with use_language(contact.language):
            notice = preview()
        return Delivery(message.channel, address.address, Outbound(text=notice)), "notice"

    def _record_part(self, message_id: int, token: str, number: int, of: int, provider_id: str) -> None:
        """One part of a long message is with the provider: a retry goes on after it (and the claim is renewed)."""
        if number == of:
            return  # the last part: recorded with the message
        now = self.clock()

        def write() -> int:
            with self.db.session() as s:
                result = s.execute(
                    update(Message)
                    .where(Message.id == message_id, Message.claim_token == token, Message.status == "sending")
                    .values(
                        parts_sent=number,
                        provider_id=provider_id,
                        unsure_since=None,
                        claimed_until=now + self.config.lease,
                    )
                    .execution_options(synchronize_session=False)
                )
                return int(result.rowcount)  # type: ignore[attr-defined]

        if not _retrying(write):
            raise ClaimLost(message_id)

    def _record_sent(self, message_id: int, token: str, provider_id: str, kind: str, delivery: Delivery) -> None:
        _retrying(partial(self._write_sent, message_id, token, provider_id, kind, delivery))

    def _write_sent(self, message_id: int, token: str, provider_id: str, kind: str, delivery: Delivery) -> None:
        now = self.clock()
        mine = and_(Message.id == message_id, Message.claim_token == token, Message.status == "sending")
        with self.db.session() as s:
            if kind == "content":  # the usual case, in one statement
                result = s.execute(
                    update(Message)
                    .where(mine)
                    .values(
                        status="sent",
                        claimed_until=None,
                        last_error=None,
                        provider_id=provider_id,
                        sent_at=now,
                        unsure_since=None,
                    )
                    .execution_options(synchronize_session=False)
                )
                if not result.rowcount:  # type: ignore[attr-defined]
                    log.warning("message %s was sent after its claim had been taken over", message_id)
                return
            message = s.get(Message, message_id)
            if message is None or not _still_ours(message, token, None):
                log.warning("message %s: its notice was sent after its claim had been taken over", message_id)
                return
            # The notice or template is a message of its own (its delivery status comes back by its id).
            s.add(
                Message(
                    contact_id=message.contact_id,
                    address_id=message.address_id,
                    direction="out",
                    channel=message.channel,
                    body=delivery.reply.text,
                    author="system",
                    status="sent",
                    prompted=False,
                    attempts=1,
                    provider_id=provider_id,
                    sent_at=now,
                    created_at=now,
                )
            )
            _finish(message, "awaiting_reply", None)
            message.unsure_since = None
            message.next_attempt_at = now

    def _record_failure(self, message_id: int, token: str, exc: SendError, *, began: datetime | None = None) -> None:
        """Count the attempt against this message alone: retry later, or fail it with the reason."""
        _retrying(partial(self._write_failure, message_id, token, exc, began))

    def _write_failure(self, message_id: int, token: str, exc: SendError, began: datetime | None) -> None:
        now = self.clock()
        detail = scrub_personal(str(exc))[:500]  # a provider's error can quote the number it refused
        from bot.channels.twilio_channel import WindowClosed

        with self.db.session() as s:
            # Not the body: it may be the very thing that cannot be read.
            message = s.get(Message, message_id, options=[defer(Message.body), defer(Message.media)])
            if message is None or not _still_ours(message, token, None):
                log.warning("message %s: an outcome arrived after its claim had been taken over", message_id)
                return
            if isinstance(exc, RecipientBlocked):
                contact = s.get(Contact, message.contact_id)
                assert contact is not None
                contact.stopped = True  # nothing more goes to them until they write again
                _finish(message, "failed", detail)
                s.execute(
                    update(Message)
                    .where(
                        Message.contact_id == contact.id,
                        Message.direction == "out",
                        Message.id != message.id,
                        Message.status.in_(("queued", "held", "awaiting_reply", "sending")),
                    )
                    .values(status="suppressed", last_error="the person opted out at the provider")
                    .execution_options(synchronize_session=False)
                )
                log.info("contact %s opted out at the provider; stopped", contact.id)
            elif isinstance(exc, WindowClosed):
                _finish(message, "awaiting_reply", detail)
                message.next_attempt_at = now
            elif isinstance(exc, AmbiguousSend) and message.unsure_since is not None and not exc.checkable:
                # Retried once already, and again no answer: a third copy is worse than none.
                _finish(message, "failed", f"{detail}; twice without an answer, so it may have arrived: not sent again")
                log.warning("message %s: no answer twice; not sent a third time", message.id)
            elif isinstance(exc, AmbiguousSend) and message.attempts < MAX_ATTEMPTS:
                message.unsure_since = message.unsure_since or began or now
                then = "checked with the provider before any resend" if exc.checkable else "sent once more at most"
                _finish(message, "queued", f"{detail}; no answer, it may have arrived: {then}")
                message.next_attempt_at = now + self.backoff(message.attempts)
            elif exc.temporary and message.attempts < MAX_ATTEMPTS:
                delay = self.backoff(message.attempts)
                if exc.retry_after:
                    delay = max(delay, timedelta(seconds=exc.retry_after))
                _finish(message, "queued", detail)
                message.next_attempt_at = now + delay
            else:
                _finish(message, "failed", detail)
                log.warning("message %s failed after %s attempts: %s", message.id, message.attempts, detail)

    def backoff(self, attempts: int) -> timedelta:
        """How long to wait after the given number of attempts: doubling, capped."""
        delay: timedelta = min(self.config.backoff * (2 ** max(attempts - 1, 0)), self.config.max_backoff)
        return delay


def _finish(message: Message, status: str, error: str | None) -> None:
    message.status = status
    message.claimed_until = None
    message.last_error = error


def _still_ours(message: Message, token: str, now: datetime | None) -> bool:
    """The fence: this dispatcher's claim is the one in force (and, before a send, not yet run out)."""
    if message.status != "sending" or message.claim_token != token:
        return False
    return now is None or (message.claimed_until is not None and message.claimed_until >= now)


_T = TypeVar("_T")


def _retrying(write: Callable[[], _T], tries: int = 3) -> _T:
    """Read or record through a dropped database connection: a send not recorded would go again."""
    for attempt in range(tries):
        try:
            return write()
        except DBAPIError as exc:
            if not exc.connection_invalidated or attempt == tries - 1:
                raise
            log.warning("database connection lost while preparing or recording a send; trying again")
            time.sleep(0.2 * 2**attempt)
    raise AssertionError("unreachable")


def _answers_latest_message(s: Session, message: Message) -> bool:
    """A reply to the message the person just sent (such as the STOP confirmation) still goes."""
    if not message.prompted:
        return False
    latest_in = s.scalar(
        select(func.max(Message.id)).where(Message.contact_id == message.contact_id, Message.direction == "in")
    )
    return latest_in is not None and message.id > latest_in


def _answers(s: Session, contact: Contact) -> dict[str, object] | None:
    """The person's safe days and times: from their latest saved contribution, else the form so far."""
    latest = latest_version(s, contact.id)
    if latest is not None:
        return dict(latest.answers)
    return dict(contact.draft) if contact.draft else None


def _already_asked_to_reply(s: Session, message: Message, contact: Contact) -> bool:
    """Whether a notice or template already went out since the person last wrote (one is enough)."""
    since = contact.last_inbound_at
    cond = [Message.contact_id == contact.id, Message.status == "awaiting_reply", Message.id != message.id]
    if since is not None:
        cond.append(Message.next_attempt_at >= since)
    return bool(s.scalar(select(exists().where(*cond))))


def _template_sid(service: Service) -> str:
    return str(getattr(service.settings, "twilio_whatsapp_template_sid", "") or "")
