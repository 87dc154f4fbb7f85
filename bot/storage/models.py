"""The records the service keeps: people, their addresses, messages, contributions, cases and tickets."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from bot.storage.crypto import cipher


def utcnow() -> datetime:
    """Now, in UTC, timezone-aware."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored: use bot.storage.models.utcnow()")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


class EncryptedText(TypeDecorator[str]):
    """Text that is encrypted before it reaches the database (family words, answers, addresses)."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else cipher().encrypt(value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else cipher().decrypt(value)


class EncryptedJSON(TypeDecorator[Any]):
    """A JSON document encrypted as a whole (form answers)."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        import json

        return None if value is None else cipher().encrypt(json.dumps(value, ensure_ascii=False))

    def process_result_value(self, value: str | None, dialect: Dialect) -> Any:
        import json

        return None if value is None else json.loads(cipher().decrypt(value))


class ProviderId(TypeDecorator[str]):
    """The id a provider gave our send, with nothing in it that names the person: Telegram's
    "chat:message" id keeps the message number, but the chat id becomes a keyed hash (Twilio's
    SM... ids name nobody and are kept as they are)."""

    impl = String(100)
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        # Comparisons go through here too, so `Message.provider_id == "777001:15"` finds the row.
        return None if value is None else pseudonymous_provider_id(value)


def pseudonymous_provider_id(value: str) -> str:
    """A Telegram "chat:message" id with the chat id replaced by a keyed hash; other ids unchanged."""
    chat, sep, message = value.partition(":")
    if not sep or not chat.lstrip("-").isdigit():
        return value
    return "tg" + cipher().blind_index("telegram-chat:" + chat)[:24] + ":" + message


class Base(DeclarativeBase):
    """Base of every table."""


class Organisation(Base):
    """An advocacy service (AAFDA, or a by-and-for organisation) whose advocates work cases."""

    __tablename__ = "organisations"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)


class StaffUser(Base):
    """A chair, an advocate or an administrator."""

    __tablename__ = "staff_users"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))  # administrator | chair | advocate
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    password_hash: Mapped[str] = mapped_column(String(200))
    totp_secret: Mapped[str | None] = mapped_column(EncryptedText)
    totp_last_step: Mapped[int | None] = mapped_column(Integer)  # a TOTP code is accepted once only
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    working_hours: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    organisation: Mapped[Organisation | None] = relationship()


class StaffSignIn(Base):
    """One staff sign-in, held on the server: logging out ends it, so a copied cookie stops working."""

    __tablename__ = "staff_sign_ins"
    id: Mapped[int] = mapped_column(primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)  # SHA-256 of the key in the cookie
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"), index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class EndedChatSession(Base):
    """A web chat session ended by quick exit: its cookie is refused from then on, by every process."""

    __tablename__ = "ended_chat_sessions"
    id: Mapped[int] = mapped_column(primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)  # SHA-256 of the key in the cookie
    ended_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LoginFailure(Base):
    """One failed staff login from a client, for the per-client limit every web process shares."""

    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_client", "client_index", "failed_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    client_index: Mapped[str] = mapped_column(String(64))  # keyed hash of the client's address, never the address
    failed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CodeAttempt(Base):
    """One wrong JOIN or RESUME code, for the limits per code, per address and overall that every process shares."""

    __tablename__ = "code_attempts"
    __table_args__ = (
        Index("ix_code_attempts_client", "client_index", "failed_at"),
        Index("ix_code_attempts_code", "code_index", "failed_at"),
        Index("ix_code_attempts_failed_at", "failed_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))  # join | resume
    code_index: Mapped[str] = mapped_column(String(64))  # keyed hash of the code tried, never the code
    client_index: Mapped[str] = mapped_column(String(64))  # keyed hash of the channel address, never the address
    failed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Case(Base):
    """One review: the chair, the advocates, and the name the family chose for the person who died."""

    __tablename__ = "cases"
    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(50), unique=True)
    person_label: Mapped[str] = mapped_column(EncryptedText)
    stage: Mapped[int] = mapped_column(Integer, default=1)  # the five stages of a review
    chair_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    lead_advocate_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    deputy_advocate_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    retention_until: Mapped[date | None] = mapped_column(Date)  # set when the case is closed
    closed_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Invitation(Base):
    """A single-use, expiring code that links a family member to their case; only its hash is kept."""

    __tablename__ = "invitations"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    note: Mapped[str | None] = mapped_column(EncryptedText)  # e.g. "for the sister", staff-only
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    used_by_contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Contact(Base):
    """One person talking to the service (family member or significant other), on any channel."""

    __tablename__ = "contacts"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    language: Mapped[str | None] = mapped_column(String(10))
    discreet: Mapped[bool] = mapped_column(Boolean, default=False)
    safe_to_talk: Mapped[bool | None] = mapped_column(Boolean)
    stopped: Mapped[bool] = mapped_column(Boolean, default=False)
    # Where the person is in the conversation, and small non-personal bookkeeping for it.
    state: Mapped[str] = mapped_column(String(60), default="new")
    state_data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Answers given so far in the form, saved the moment each one is given.
    draft: Mapped[dict[str, Any] | None] = mapped_column(EncryptedJSON)
    resume_code_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    resume_code_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    advocate_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    human_holds: Mapped[bool] = mapped_column(Boolean, default=False)  # bot stays silent
    misunderstood: Mapped[int] = mapped_column(Integer, default=0)
    timezone: Mapped[str] = mapped_column(String(50), default="Europe/London")
    # An account, portrait or files being given, kept the moment each message arrives, until confirmed.
    contribution_draft: Mapped[dict[str, Any] | None] = mapped_column(EncryptedJSON)
    last_inbound_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    addresses: Mapped[list[Address]] = relationship(back_populates="contact")


class Address(Base):
    """A channel address (phone number, Telegram chat, web session) of a contact, stored encrypted."""

    __tablename__ = "addresses"
    __table_args__ = (UniqueConstraint("channel", "address_index"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"), index=True)
    channel: Mapped[str] = mapped_column(String(20))  # sms | whatsapp | telegram | web | cli
    address: Mapped[str] = mapped_column(EncryptedText)
    address_index: Mapped[str] = mapped_column(String(64))
    # When we first heard from it; which address someone last used is read from their messages.
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    contact: Mapped[Contact] = relationship(back_populates="addresses")


class Message(Base):
    """One message in or out; outbound rows double as the durable outbox."""

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("channel", "provider_message_id"),  # inbound idempotency
        Index("ix_messages_outbox", "status", "next_attempt_at"),  # the dispatcher's claim query
        Index("ix_messages_delivered", "channel", "sent_at"),  # open web chat pages look for new messages
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"), index=True)
    address_id: Mapped[int | None] = mapped_column(ForeignKey("addresses.id"))
    direction: Mapped[str] = mapped_column(String(3))  # in | out
    channel: Mapped[str] = mapped_column(String(20))
    body: Mapped[str] = mapped_column(EncryptedText)
    # none_as_null: a message without quick replies stores SQL NULL, not the JSON value null.
    choices: Mapped[list[dict[str, str]] | None] = mapped_column(JSON(none_as_null=True))
    pick_several: Mapped[bool] = mapped_column(Boolean, default=False)  # the choices combine ("1 3")
    author: Mapped[str] = mapped_column(String(20), default="bot")  # family | bot | advocate | system
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    intent: Mapped[str | None] = mapped_column(String(40))
    # Outbox bookkeeping (outbound only).
    status: Mapped[str] = mapped_column(String(20), default="received")
    prompted: Mapped[bool] = mapped_column(Boolean, default=True)  # a reply the person just asked for
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The fencing token of the claim in force: only the dispatcher holding it may send or record.
    claim_token: Mapped[str | None] = mapped_column(String(32))
    parts_sent: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # of a long message
    # When an attempt began whose outcome is unknown (the provider may have it): checked before resending.
    unsure_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(500))
    provider_message_id: Mapped[str | None] = mapped_column(String(100))  # inbound id from provider
    provider_id: Mapped[str | None] = mapped_column(ProviderId, index=True)  # id the provider gave our send
    media: Mapped[list[dict[str, Any]] | None] = mapped_column(EncryptedJSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ContributionVersion(Base):
    """One confirmed version of how a person wants to take part; versions are never overwritten."""

    __tablename__ = "contribution_versions"
    __table_args__ = (UniqueConstraint("contact_id", "version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    answers: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON)
    channel: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Attachment(Base):
    """A voice note, photo or written account a person sent as part of their contribution."""

    __tablename__ = "attachments"
    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"), index=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))
    content_type: Mapped[str] = mapped_column(String(100))
    data: Mapped[str] = mapped_column(EncryptedText)  # base64 of the bytes, encrypted
    byte_size: Mapped[int | None] = mapped_column(Integer)
    filename: Mapped[str | None] = mapped_column(EncryptedText)  # as the person's device named it
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ContributionPiece(Base):
    """One version of something a person gives the review (an account, a portrait, a name, a file).

    A change, a withdrawal or a new consent adds a version; versions are never overwritten, and only
    the latest says what may be used, and for what: the chair reading it, the report quoting it, the
    panel seeing it.
    """

    __tablename__ = "contribution_pieces"
    __table_args__ = (UniqueConstraint("contact_id", "piece", "version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # account | portrait | name | file
    piece: Mapped[str] = mapped_column(String(40))  # the versions of one piece share this: "account", "file-12"
    version: Mapped[int] = mapped_column(Integer)
    text: Mapped[str | None] = mapped_column(EncryptedText)  # the family's words (None for a file)
    attachment_id: Mapped[int | None] = mapped_column(ForeignKey("attachments.id"))
    consent_chair: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_quote: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_panel: Mapped[bool] = mapped_column(Boolean, default=False)
    withdrawn: Mapped[bool] = mapped_column(Boolean, default=False)
    channel: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Ticket(Base):
    """A period of human interaction with a person: opened, routed, held by an advocate, closed."""

    __tablename__ = "tickets"
    __table_args__ = (
        Index("ix_tickets_queue", "status", "priority", "opened_on"),  # advocate inbox ordering
        Index("ix_tickets_assignee", "assignee_id", "status"),  # inbox folder "Mine": tickets I hold
        Index("ix_tickets_routed", "routed_to_id", "status"),  # inbox folder "Mine": routed to me
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    reason: Mapped[str] = mapped_column(String(40))  # urgent | sensitive | requested | misunderstood | ...
    priority: Mapped[str] = mapped_column(String(10))  # urgent | normal
    status: Mapped[str] = mapped_column(String(10), default="waiting")  # waiting|active|returned|closed
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    routed_to_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    escalations: Mapped[int] = mapped_column(Integer, default=0)
    opened_on: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    replied_on: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_on: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_activity_on: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TicketEvent(Base):
    """Who did what to a ticket and when (assign, note, transfer, hand back, close)."""

    __tablename__ = "ticket_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    note: Mapped[str | None] = mapped_column(EncryptedText)  # private advocate notes
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AuditEntry(Base):
    """A record that a staff member read or exported personal content."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    action: Mapped[str] = mapped_column(String(40))
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[int | None] = mapped_column(Integer)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    detail: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class OnCallShift(Base):
    """An advocate on call out of hours: urgent tickets go to them, and escalate to them, while it lasts.

    A shift belongs to an organisation; one without an organisation covers people not yet linked to a case.
    """

    __tablename__ = "on_call_shifts"
    __table_args__ = (Index("ix_on_call_shifts_when", "starts_at", "ends_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CaseUpdate(Base):
    """A chair's update to the family of a case: what was sent, in which languages, to whom and when."""

    __tablename__ = "case_updates"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    template: Mapped[str | None] = mapped_column(String(40))  # a canned update's key; None when written freely
    text: Mapped[str] = mapped_column(EncryptedText)  # as the chair wrote or chose it, in English
    # Per recipient: contact id, language, and whether the text went out translated or in English.
    recipients: Mapped[Any] = mapped_column(EncryptedJSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
