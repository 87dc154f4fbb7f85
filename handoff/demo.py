"""Demo staff accounts (a chair, two advocates, an administrator) for `dhrbot serve --demo`."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.storage.models import StaffUser
from handoff.auth import create_user, hash_password, provisioning_uri

DEMO_ORGANISATION = "AAFDA (demo)"
DEMO_STAFF = (
    ("administrator", "admin@demo.invalid", "Demo Administrator", None),
    ("chair", "chair@demo.invalid", "Demo Chair", None),
    ("lead", "lead@demo.invalid", "Sam (lead advocate)", DEMO_ORGANISATION),
    ("deputy", "deputy@demo.invalid", "Alex (deputy advocate)", DEMO_ORGANISATION),
)


def seed_staff(session: Session) -> dict[str, Any]:
    """Create the demo accounts once; each run gives them fresh passwords, printed with their TOTP secrets."""
    logins: dict[str, str] = {}
    emails: dict[str, str] = {}
    for key, email, name, organisation in DEMO_STAFF:
        role = "advocate" if key in ("lead", "deputy") else key
        user = session.scalars(select(StaffUser).where(StaffUser.email == email)).first()
        if user is None:
            account = create_user(session, email=email, name=name, role=role, organisation=organisation)
            password, user = account.password, account.user
        else:
            from handoff.auth import new_password

            password = new_password()
            user.password_hash = hash_password(password)
            user.failed_logins, user.locked_until = 0, None
        emails[key] = email
        logins[key] = f"{email} password {password} TOTP secret {user.totp_secret} ({provisioning_uri(user)})"
    return {"chair": emails["chair"], "lead": emails["lead"], "deputy": emails["deputy"], "logins": logins}
