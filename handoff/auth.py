"""Staff accounts: Argon2 passwords, TOTP for everyone, lockout after failures, sign-ins held on the server."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from bot.storage.crypto import cipher
from bot.storage.models import LoginFailure, Organisation, StaffSignIn, StaffUser, utcnow
from handoff.audit import audit
from handoff.i18n import t

ROLES = ("administrator", "chair", "advocate")
MAX_FAILED_LOGINS = 5
LOCK_FOR = timedelta(minutes=15)
IDLE_TIMEOUT = timedelta(minutes=30)
# However active, a sign-in ends after a working day: a forgotten session does not last for ever.
SIGN_IN_LASTS = timedelta(hours=12)
ISSUER = "dhrbot"

_hasher = PasswordHasher()
# Verified against when the email is unknown, so a wrong email takes as long as a wrong password.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


class StaffError(ValueError):
    """A staff-account request that cannot be carried out, with a message saying why."""


def hash_password(password: str) -> str:
    """An Argon2id hash of a password."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether the password matches (never raises for a wrong or malformed hash)."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def new_password() -> str:
    """A one-time password for a new account, easy to read out."""
    return "-".join(secrets.token_urlsafe(6) for _ in range(3))


def provisioning_uri(user: StaffUser) -> str:
    """The otpauth:// URI an authenticator app reads (usually as a QR code)."""
    assert user.totp_secret
    return pyotp.TOTP(user.totp_secret).provisioning_uri(name=user.email, issuer_name=ISSUER)


@dataclass(frozen=True)
class NewAccount:
    """What to hand a new staff member once: the password and the two-factor secret."""

    user: StaffUser
    password: str
    totp_secret: str

    def login_text(self) -> str:
        """Printable login details."""
        return (
            f"{self.user.email} password {self.password} TOTP secret {self.totp_secret} ({provisioning_uri(self.user)})"
        )


def create_user(
    session: Session, *, email: str, name: str, role: str, organisation: str | None = None, password: str | None = None
) -> NewAccount:
    """A staff account with a fresh password and TOTP secret; advocates belong to an organisation."""
    email = email.strip().lower()
    if role not in ROLES:
        raise StaffError(f"role must be one of {', '.join(ROLES)}")
    if "@" not in email:
        raise StaffError("an email address is needed")
    if session.scalars(select(StaffUser).where(StaffUser.email == email)).first():
        raise StaffError(f"an account for {email} already exists")
    org = None
    if organisation:
        org = session.scalars(select(Organisation).where(Organisation.name == organisation)).first()
        if org is None:
            org = Organisation(name=organisation)
            session.add(org)
            session.flush()
    if role == "advocate" and org is None:
        raise StaffError("an advocate belongs to an organisation: give --organisation")
    password = password or new_password()
    secret = pyotp.random_base32()
    user = StaffUser(
        email=email,
        display_name=name,
        role=role,
        organisation_id=org.id if org else None,
        password_hash=hash_password(password),
        totp_secret=secret,
        failed_logins=0,
        active=True,
    )
    session.add(user)
    session.flush()
    return NewAccount(user, password, secret)


def authenticate(
    session: Session, email: str, password: str, code: str, now: datetime | None = None
) -> StaffUser | None:
    """The account if password and TOTP code are right and it is not locked; counts failures in the database."""
    now = now or utcnow()
    user = session.scalars(select(StaffUser).where(StaffUser.email == email.strip().lower()).with_for_update()).first()
    if user is None:
        verify_password(_DUMMY_HASH, password)
        audit(session, None, "login_failed", "staff_user", None, detail="no such account")
        return None
    if user.locked_until is not None and user.locked_until > now:
        audit(session, user, "login_failed", "staff_user", user.id, detail="account locked")
        return None
    ok = user.active and verify_password(user.password_hash, password) and _totp_ok(user, code, now)
    if not ok:
        user.failed_logins = (user.failed_logins or 0) + 1
        audit(session, user, "login_failed", "staff_user", user.id, detail=f"failure {user.failed_logins}")
        if user.failed_logins >= MAX_FAILED_LOGINS:
            user.locked_until = now + LOCK_FOR
            user.failed_logins = 0
            audit(session, user, "lockout", "staff_user", user.id, detail=f"locked until {user.locked_until:%H:%M} UTC")
        return None
    user.failed_logins = 0
    user.locked_until = None
    audit(session, user, "login", "staff_user", user.id)
    return user


def unlock(session: Session, target: StaffUser, by: StaffUser) -> None:
    """An administrator lifts a lockout after repeated failed logins."""
    target.locked_until, target.failed_logins = None, 0
    audit(session, by, "unlock", "staff_user", target.id)


def set_active(session: Session, target: StaffUser, by: StaffUser, active: bool) -> None:
    """Switch an account off (it can no longer sign in; its sessions end) or on again."""
    if target.id == by.id:
        raise StaffError(t("You cannot switch off your own account."))
    target.active = active
    audit(session, by, "status", "staff_user", target.id, detail="active" if active else "switched off")


def _totp_ok(user: StaffUser, code: str, now: datetime) -> bool:
    """A current code (one step of clock drift either way), never one already used (no replay)."""
    if not user.totp_secret:
        return False
    code = "".join(ch for ch in code if ch.isdigit())
    if len(code) != 6:
        return False
    totp = pyotp.TOTP(user.totp_secret)
    current = int(now.timestamp()) // totp.interval
    for step in (current - 1, current, current + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            if user.totp_last_step is not None and step <= user.totp_last_step:
                return False
            user.totp_last_step = step
            return True
    return False


class RateLimiter:
    """At most `limit` failed logins per client address in a sliding window, in every web process.

    Failures are counted in the database, under a keyed hash of the address, so that several web
    processes share one count. The per-account lockout stops guessing at one account; this slows a
    single client trying many accounts.
    """

    def __init__(self, limit: int = 20, window: timedelta = timedelta(minutes=5)) -> None:
        self.limit = limit
        self.window = window

    def allow(self, session: Session, client: str) -> bool:
        """Whether this client may try again now."""
        since = utcnow() - self.window
        recent = session.scalar(
            select(func.count())
            .select_from(LoginFailure)
            .where(LoginFailure.client_index == _client_index(client), LoginFailure.failed_at > since)
        )
        return (recent or 0) < self.limit

    def failed(self, session: Session, client: str) -> None:
        """Count a failed attempt, and forget every client's attempts older than the window."""
        now = utcnow()
        session.execute(delete(LoginFailure).where(LoginFailure.failed_at <= now - self.window))
        session.add(LoginFailure(client_index=_client_index(client), failed_at=now))


def _client_index(client: str) -> str:
    return cipher().blind_index(f"login-client:{client}")


@dataclass
class StaffSession:
    """What the signed session cookie carries: who, the CSRF token, and when they were last active."""

    csrf: str
    user_id: int | None = None
    fingerprint: str = ""  # changes when the password changes, ending older sessions
    seen: float = 0.0
    key: str = ""  # names this sign-in on the server (StaffSignIn), where logging out ends it

    def dump(self) -> dict[str, Any]:
        return {"c": self.csrf, "u": self.user_id, "f": self.fingerprint, "s": self.seen, "k": self.key}


def start_sign_in(session: Session, user: StaffUser) -> str:
    """Record a new sign-in on the server; returns the key the session cookie carries."""
    now = utcnow()
    # Forget this person's sign-ins that have ended or run out.
    session.execute(
        delete(StaffSignIn).where(
            StaffSignIn.user_id == user.id,
            or_(StaffSignIn.ended_at.is_not(None), StaffSignIn.started_at < now - SIGN_IN_LASTS),
        )
    )
    key = secrets.token_urlsafe(32)
    session.add(StaffSignIn(key_hash=_key_hash(key), user_id=user.id, started_at=now))
    return key


def sign_in_current(session: Session, user: StaffUser, key: str) -> bool:
    """Whether this sign-in is still open: not logged out, and started less than SIGN_IN_LASTS ago."""
    found = session.scalar(
        select(StaffSignIn).where(StaffSignIn.key_hash == _key_hash(key), StaffSignIn.user_id == user.id)
    )
    return found is not None and found.ended_at is None and found.started_at > utcnow() - SIGN_IN_LASTS


def end_sign_in(session: Session, key: str, user: StaffUser | None = None) -> None:
    """Log out on the server: the cookie, even a copy of it, no longer signs anyone in."""
    if user is not None:
        audit(session, user, "logout", "staff_user", user.id)
    session.execute(
        update(StaffSignIn)
        .where(StaffSignIn.key_hash == _key_hash(key), StaffSignIn.ended_at.is_(None))
        .values(ended_at=utcnow())
    )


def _key_hash(key: str) -> str:
    # The key is 256 random bits: a plain hash is enough to keep it out of the database.
    return hashlib.sha256(key.encode()).hexdigest()


def fingerprint(user: StaffUser) -> str:
    """A short digest of the password hash: a password change invalidates every session."""
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


class SessionCodec:
    """Signs and reads the session cookie; an idle session is treated as logged out."""

    def __init__(self, secret_key: str, idle_timeout: timedelta = IDLE_TIMEOUT) -> None:
        self._serializer = URLSafeSerializer(secret_key, salt="dhrbot-staff-session")
        self.idle_timeout = idle_timeout

    def new(self) -> StaffSession:
        """A fresh anonymous session with its own CSRF token."""
        return StaffSession(csrf=secrets.token_urlsafe(32), seen=time.time())

    def load(self, raw: str | None, now: float | None = None) -> StaffSession:
        """The session in the cookie, or a fresh one if it is missing, forged or idle for too long."""
        if not raw:
            return self.new()
        try:
            data = self._serializer.loads(raw)
            session = StaffSession(
                csrf=str(data["c"]),
                user_id=data["u"],
                fingerprint=str(data["f"]),
                seen=float(data["s"]),
                key=str(data.get("k", "")),
            )
        except (BadSignature, KeyError, TypeError, ValueError):
            return self.new()
        now = time.time() if now is None else now
        if session.user_id is not None and now - session.seen > self.idle_timeout.total_seconds():
            return self.new()
        return session

    def dump(self, session: StaffSession) -> str:
        """The cookie value."""
        return self._serializer.dumps(session.dump())


def csrf_ok(session: StaffSession, token: str | None) -> bool:
    """Whether a form carried this session's CSRF token."""
    return bool(token) and hmac.compare_digest(session.csrf, token or "")
