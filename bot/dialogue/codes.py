"""Invitation and resume codes: short, easy to type, hard to guess, stored only as keyed hashes."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from bot.storage.crypto import cipher
from bot.storage.models import CodeAttempt, Contact

if TYPE_CHECKING:
    from bot.settings import Settings

# No 0/O, 1/I/L or U: codes are read aloud and typed on phones.
ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"
_CODE = re.compile(r"\b([A-Z0-9]{4})[-\s]?([A-Z0-9]{4})\b")
_JOIN = re.compile(r"^\s*(?:/start\s+|join\s*[:\-]?\s*)([A-Za-z0-9]{4})[-\s]?([A-Za-z0-9]{4})\s*$", re.I)
_RESUME = re.compile(r"^\s*resume\s*[:\-]?\s*([A-Za-z0-9]{4})[-\s]?([A-Za-z0-9]{4})\s*$", re.I)


def new_code() -> str:
    """A fresh code like K7MQ-2XPB (about 39 bits; attempts are limited)."""
    raw = "".join(secrets.choice(ALPHABET) for _ in range(8))
    return f"{raw[:4]}-{raw[4:]}"


def code_hash(code: str) -> str:
    """The keyed hash stored instead of a code."""
    return code_hashes(code)[0]


def code_hashes(code: str) -> list[str]:
    """The code's keyed hash under every configured key: a code issued before a key rotation still works."""
    return cipher().blind_indexes("code:" + re.sub(r"[^A-Z0-9]", "", code.upper()))


def join_code_in(text: str) -> str | None:
    """The invitation code in "JOIN K7MQ-2XPB" or a Telegram "/start K7MQ2XPB" deep link."""
    m = _JOIN.match(text)
    return f"{m.group(1)}-{m.group(2)}".upper() if m else None


def resume_code_in(text: str) -> str | None:
    """The private code in "RESUME K7MQ-2XPB"."""
    m = _RESUME.match(text)
    return f"{m.group(1)}-{m.group(2)}".upper() if m else None


def bare_code_in(text: str) -> str | None:
    """A code typed on its own, when the bot has just asked for one."""
    m = _CODE.fullmatch(text.strip().upper())
    return f"{m.group(1)}-{m.group(2)}" if m else None


# ---------------------------------------------------------------------- guessing limits and expiry
FIRST_PAUSE = timedelta(seconds=30)  # the wait once a limit is reached; it doubles with each further miss


@dataclass(frozen=True)
class CodePolicy:
    """How long resume codes last, and how many wrong codes are allowed before each further try waits."""

    window: timedelta = timedelta(minutes=15)
    per_address: int = 5
    per_code: int = 5
    overall: int = 100
    resume_lasts: timedelta = timedelta(days=30)

    @classmethod
    def from_settings(cls, settings: Settings) -> CodePolicy:
        """The policy an operator configured."""
        return cls(
            window=timedelta(minutes=settings.code_attempts_window_minutes),
            per_address=settings.code_attempts_per_address,
            per_code=settings.code_attempts_per_code,
            overall=settings.code_attempts_global,
            resume_lasts=timedelta(days=settings.resume_code_days),
        )


def _code_index(code: str) -> str:
    # Not the stored code hash: the attempts table never links to a real invitation or person.
    return cipher().blind_index("code-attempt:" + re.sub(r"[^A-Z0-9]", "", code.upper()))


def _client_index(client: str) -> str:
    return cipher().blind_index("code-client:" + client)


def wait_before_trying(session: Session, policy: CodePolicy, code: str, client: str, now: datetime) -> timedelta:
    """How long this address must wait before a code is checked (zero: check it now).

    Wrong codes are counted in the database, so every web process shares the counts: per code tried,
    per address (channel and phone number, chat or web session) and from everyone together, which a
    guesser who changes address or cookie still meets. Past a limit, each further try waits twice as
    long as the one before, up to the window.
    """
    since = now - policy.window
    recent = CodeAttempt.failed_at > since
    checks = (
        (CodeAttempt.code_index == _code_index(code), policy.per_code),
        (CodeAttempt.client_index == _client_index(client), policy.per_address),
        (recent, policy.overall),
    )
    wait = timedelta(0)
    for where, limit in checks:
        count, last = session.execute(select(func.count(), func.max(CodeAttempt.failed_at)).where(recent, where)).one()
        if count < limit or last is None:
            continue
        if last.tzinfo is None:  # SQLite forgets the zone of an aggregate
            last = last.replace(tzinfo=UTC)
        pause = min(FIRST_PAUSE * 2 ** min(count - limit, 20), policy.window)
        wait = max(wait, last + pause - now)
    return wait


def record_wrong_code(session: Session, kind: str, code: str, client: str, now: datetime) -> None:
    """Count a wrong code, and forget every attempt older than a day (the window is far shorter)."""
    session.execute(delete(CodeAttempt).where(CodeAttempt.failed_at < now - timedelta(days=1)))
    session.add(CodeAttempt(kind=kind, code_index=_code_index(code), client_index=_client_index(client), failed_at=now))


@dataclass(frozen=True)
class ResumeAttempt:
    """What came of a RESUME code: `owner` when it worked, else why not."""

    outcome: str  # worked | wrong | wait
    owner: Contact | None = None


def try_resume(session: Session, policy: CodePolicy, code: str, client: str, now: datetime) -> ResumeAttempt:
    """Check a RESUME code within the limits; a wrong or run-out code is counted against the address."""
    if wait_before_trying(session, policy, code, client, now) > timedelta(0):
        return ResumeAttempt("wait")
    owner = session.scalars(select(Contact).where(Contact.resume_code_hash.in_(code_hashes(code)))).first()
    expires = owner.resume_code_expires_at if owner is not None else None
    if owner is None or expires is None or expires <= now:
        record_wrong_code(session, "resume", code, client, now)
        return ResumeAttempt("wrong")
    return ResumeAttempt("worked", owner)


def give_resume_code(contact: Contact, policy: CodePolicy, now: datetime) -> str:
    """A new private code for this person, replacing any earlier one; only its hash is kept."""
    code = new_code()
    contact.resume_code_hash = code_hash(code)
    contact.resume_code_expires_at = now + policy.resume_lasts
    return code
