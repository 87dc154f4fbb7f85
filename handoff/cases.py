"""Named operations on a case: its stage, who works on it, and updates to the family. Each is audited."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.admin import AdminError
from bot.content.stages import STAGES
from bot.dialogue import form
from bot.dialogue.contributions import latest_versions
from bot.i18n import BY_CODE, DEFAULT_LANGUAGE, _, use_language
from bot.storage.models import Case, CaseUpdate, Contact, ContributionVersion, StaffUser
from bot.storage.outbox import enqueue
from handoff import canned
from handoff.audit import audit
from handoff.i18n import t

MAX_UPDATE_LENGTH = 1000


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


@dataclass
class UpdateLine:
    """What one family member will receive: in their language where a translation exists."""

    person: str
    language: str
    text: str
    translated: bool


def _recipients(session: Session, case: Case) -> list[tuple[str, Contact]]:
    """Everyone on the case who has not sent STOP, nor asked not to be kept informed, with the label the
    chair knows them by."""
    contacts = session.scalars(select(Contact).where(Contact.case_id == case.id).order_by(Contact.id)).all()
    latest = session.scalars(latest_versions().where(ContributionVersion.contact_id.in_([c.id for c in contacts])))
    # Not taking part, and not a yes to being kept informed (a skipped question is not a yes).
    declined = {
        v.contact_id
        for v in latest
        if form.WAY_NO_PART in (v.answers.get(form.WAYS) or []) and v.answers.get(form.KEEP_INFORMED) != form.ANSWER_YES
    }
    return [
        (t("Person {n}").format(n=n), c)
        for n, c in enumerate(contacts, start=1)
        if not c.stopped and c.id not in declined
    ]


def _rendered(case: Case, contact: Contact, template: str, text: str) -> tuple[str, bool]:
    """The update in this person's language, and whether it is in their language."""
    english = (contact.language or DEFAULT_LANGUAGE) == DEFAULT_LANGUAGE
    if not template:
        return text, english
    source = canned.UPDATES[template].text
    with use_language(contact.language):
        rendered = _(source).format(stage=_(STAGES[case.stage - 1]))
        translated = english or _(source) != source
    return rendered, translated


def preview_update(session: Session, case: Case, template: str = "", text: str = "") -> list[UpdateLine]:
    """The update as each family member would receive it, marked where it still needs translating."""
    _check_update(template, text)
    lines = []
    for label, contact in _recipients(session, case):
        rendered, translated = _rendered(case, contact, template, text.strip())
        language = BY_CODE.get(contact.language or DEFAULT_LANGUAGE)
        lines.append(UpdateLine(label, language.english_name if language else "?", rendered, translated))
    return lines


def _check_update(template: str, text: str) -> None:
    if template and template not in canned.UPDATES:
        raise AdminError(t("That update does not exist."))
    if not template and not text.strip():
        raise AdminError(t("Write an update, or choose a ready-made one."))
    if len(text) > MAX_UPDATE_LENGTH:
        raise AdminError(t("An update can be at most {n} characters.").format(n=MAX_UPDATE_LENGTH))


def send_update(session: Session, case: Case, chair: StaffUser, template: str = "", text: str = "") -> CaseUpdate:
    """Send every linked person the update in their own language, at their safe times, and keep a record."""
    _check_update(template, text)
    recipients = []
    for label, contact in _recipients(session, case):
        rendered, translated = _rendered(case, contact, template, text.strip())
        if enqueue(session, contact, rendered, author="system", staff_id=chair.id, prompted=False):
            recipients.append({"contact_id": contact.id, "person": label, "language": contact.language,
                               "translated": translated})  # fmt: skip
    record = CaseUpdate(
        case_id=case.id,
        staff_id=chair.id,
        template=template or None,
        text=canned.UPDATES[template].text if template else text.strip(),
        recipients=recipients,
    )
    session.add(record)
    session.flush()
    audit(session, chair, "update", "case", case.id, case_id=case.id,
          detail=f"update {record.id} ({template or 'written'}) to {len(recipients)} people")  # fmt: skip
    return record


def updates_sent(session: Session, case: Case) -> list[CaseUpdate]:
    """The record of updates sent to the family, newest first."""
    return list(session.scalars(select(CaseUpdate).where(CaseUpdate.case_id == case.id).order_by(CaseUpdate.id.desc())))
