"""Administration shared by the command line and the staff app: cases and invitation codes."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.dialogue import codes
from bot.storage.models import Case, Invitation, StaffUser, utcnow


class AdminError(ValueError):
    """An administrative request that cannot be carried out, with a message saying why."""


def _staff(session: Session, email: str | None, role: str) -> StaffUser | None:
    if not email:
        return None
    user = session.scalars(select(StaffUser).where(StaffUser.email == email.lower())).first()
    if user is None:
        raise AdminError(f"no staff account for {email}: create it with `dhrbot user create` first")
    if user.role != role:
        raise AdminError(f"{email} is a {user.role}, not a {role}")
    return user


def create_case(
    session: Session,
    *,
    reference: str,
    label: str,
    chair: str | None = None,
    lead: str | None = None,
    deputy: str | None = None,
) -> Case:
    """A new review, with the name the family chose for the person (never the real name by default)."""
    if session.scalars(select(Case).where(Case.reference == reference)).first():
        raise AdminError(f"a case {reference} already exists")
    chair_user = _staff(session, chair, "chair")
    lead_user = _staff(session, lead, "advocate")
    deputy_user = _staff(session, deputy, "advocate")
    case = Case(
        reference=reference,
        person_label=label,
        chair_id=chair_user.id if chair_user else None,
        lead_advocate_id=lead_user.id if lead_user else None,
        deputy_advocate_id=deputy_user.id if deputy_user else None,
        organisation_id=lead_user.organisation_id if lead_user else None,
    )
    session.add(case)
    session.flush()
    return case


def invite(
    session: Session,
    *,
    reference: str,
    valid_for: timedelta = timedelta(days=60),
    note: str | None = None,
    created_by: int | None = None,
) -> str:
    """A single-use, expiring invitation code for one family member; only its hash is stored."""
    case = session.scalars(select(Case).where(Case.reference == reference)).first()
    if case is None:
        raise AdminError(f"no case {reference}")
    code = codes.new_code()
    session.add(
        Invitation(
            case_id=case.id,
            code_hash=codes.code_hash(code),
            note=note,
            expires_at=utcnow() + valid_for,
            created_by_id=created_by,
        )
    )
    session.flush()
    return code


def invitation_text(code: str, telegram_bot_username: str) -> str:
    """How a family member uses a code: typed, as an SMS/WhatsApp text, or as a Telegram link."""
    lines = [f"Invitation code: {code}", f'SMS or WhatsApp: send "JOIN {code}"']
    bot_name = telegram_bot_username or "<your-bot>"
    lines.append(f"Telegram: https://t.me/{bot_name}?start={code.replace('-', '')}")
    return "\n".join(lines)
