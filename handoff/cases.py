"""Named operations on a case: its stage, who works on it, and updates to the family. Each is audited."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.admin import AdminError
from bot.i18n import _, use_language
from bot.storage.models import Case, Contact, StaffUser
from bot.storage.outbox import enqueue
from handoff import canned
from handoff.audit import audit
from handoff.chair import STAGES
from handoff.i18n import t


def set_stage(session: Session, case: Case, chair: StaffUser, stage: int) -> None:
    """Move the case to one of the five stages of a review."""
    if not 1 <= stage <= len(STAGES):
        raise AdminError(t("There is no stage {n}.").format(n=stage))
    case.stage = stage
    audit(session, chair, "status", "case", case.id, case_id=case.id, detail=f"stage {stage}")


def staff_by_email(session: Session, email: str, role: str) -> StaffUser | None:
    """The active account with this email and role; None for an empty email; AdminError otherwise."""
    if not email.strip():
        return None
    user = session.scalars(
        select(StaffUser).where(StaffUser.email == email.strip().lower(), StaffUser.active.is_(True))
    ).first()
    if user is None or user.role != role:
        raise AdminError(t("{email} is not an active {role} account").format(email=email, role=role))
    return user


def assign_staff(
    session: Session, case: Case, by: StaffUser, *, chair: str = "", lead: str = "", deputy: str = ""
) -> None:
    """Change who chairs a case and who its lead and deputy advocates are (an empty email: no one)."""
    chosen = {
        "chair": staff_by_email(session, chair, "chair"),
        "lead": staff_by_email(session, lead, "advocate"),
        "deputy": staff_by_email(session, deputy, "advocate"),
    }
    case.chair_id = chosen["chair"].id if chosen["chair"] else None
    case.lead_advocate_id = chosen["lead"].id if chosen["lead"] else None
    case.deputy_advocate_id = chosen["deputy"].id if chosen["deputy"] else None
    if chosen["lead"] is not None:
        case.organisation_id = chosen["lead"].organisation_id
    audit(
        session,
        by,
        "assign",
        "case",
        case.id,
        case_id=case.id,
        detail=f"chair {case.chair_id}, lead {case.lead_advocate_id}, deputy {case.deputy_advocate_id}",
    )


def send_update(session: Session, case: Case, chair: StaffUser, update: str) -> int:
    """Send every linked person a canned update in their own language, at their safe times; how many got it."""
    if update not in canned.UPDATES:
        raise AdminError(t("That update does not exist."))
    sent = 0
    for contact in session.scalars(select(Contact).where(Contact.case_id == case.id, Contact.stopped.is_(False))):
        with use_language(contact.language):
            text = _(canned.UPDATES[update].text).format(stage=_(canned.STAGE_NAMES[case.stage - 1]))
        if enqueue(session, contact, text, author="system", staff_id=chair.id, prompted=False):
            sent += 1
    audit(session, chair, "update", "case", case.id, case_id=case.id, detail=f"{update} to {sent} people")
    return sent
