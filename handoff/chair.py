"""The chair's view of a case: who registered, how each wants to take part, what they consented to share.

Nothing here reads message bodies or advocates' notes: the chair sees the queue's state, never its content.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.dialogue import form
from bot.storage.models import Attachment, Case, Contact, ContributionVersion, Invitation, StaffUser, Ticket, utcnow
from handoff import consent
from handoff.consent import Use
from handoff.i18n import t
from handoff.queue import OPEN_STATUSES, WAITING

STAGES = (
    t("Commissioning"),
    t("Conducting the review"),
    t("Overview report"),
    t("Completion and sign-off"),
    t("Dissemination and learning"),
)
# Answers shown under "Preferences" (the rest have places of their own on the chair's page).
PREFERENCE_KEYS = tuple(
    q.key
    for q in form.QUESTIONS
    if q.key not in ("relationship", "relationship_detail", "ways", "questions", *consent.CONSENT_KEYS)
)


# How staff read a relationship (the family's options are written in the first person).
RELATIONSHIPS = {
    "parent": t("Parent"),
    "child": t("Child"),
    "partner": t("Partner"),
    "sibling": t("Brother or sister"),
    "relative": t("Other relative"),
    "friend": t("Friend"),
    "colleague": t("Colleague"),
    "neighbour": t("Neighbour"),
    "other": t("Someone else close to them"),
}


def answer_text(key: str, value: Any) -> str:
    """An answer as the staff read it: option labels (English source text), free text as written."""
    if value is None or value == form.SKIPPED:
        return t("(skipped)") if value == form.SKIPPED else ""
    if key == "relationship" and value in RELATIONSHIPS:
        return RELATIONSHIPS[value]
    question = form.BY_KEY.get(key)
    labels = {o.value: o.label for o in question.options} if question else {}
    values = value if isinstance(value, list) else [value]
    return "; ".join(labels.get(str(v), str(v)) for v in values)


def question_label(key: str) -> str:
    """The short label of a form question."""
    question = form.BY_KEY.get(key)
    return question.summary_label if question and question.summary_label else key


@dataclass
class Version:
    """One confirmed version of a person's choices, and which answers changed from the one before."""

    number: int
    created_at: datetime
    channel: str
    changed: list[str]


@dataclass
class Registrant:
    """A family member or significant other on the case, as the chair may see them."""

    contact_id: int
    label: str
    relationship: str
    relationship_detail: str
    invitation_note: str
    shares_with_chair: bool
    consent_quote: str
    consent_name: str
    ways: str
    preferences: list[tuple[str, str]]
    questions: str | None
    versions: list[Version]
    attachments: list[Attachment] = field(default_factory=list)


@dataclass
class QueueRow:
    """One open ticket of the case, without anything anyone said."""

    ticket_id: int
    person: str
    status: str
    priority: str
    holder: str
    waiting_since: datetime
    waiting_minutes: int


@dataclass
class QueueState:
    """The handoff queue for one case."""

    waiting: int
    active: int
    longest_wait_minutes: int
    rows: list[QueueRow]


def registrants(session: Session, case: Case) -> list[Registrant]:
    """Everyone linked to the case, with their latest choices and the history of changes, as the chair may see them.

    Each answer goes through the consent rule: without a yes to sharing with the chair, the chair learns
    only that the person registered and what they consented to.
    """
    contacts = session.scalars(select(Contact).where(Contact.case_id == case.id).order_by(Contact.id)).all()
    people = []
    for n, contact in enumerate(contacts, start=1):
        versions = session.scalars(
            select(ContributionVersion)
            .where(ContributionVersion.contact_id == contact.id, ContributionVersion.case_id == case.id)
            .order_by(ContributionVersion.version)
        ).all()
        latest: dict[str, Any] = dict(versions[-1].answers) if versions else {}

        def seen(key: str, latest: dict[str, Any] = latest) -> str:
            """An answer as the chair may read it; empty where consent does not allow it."""
            if not consent.permitted(consent.answer(key), Use.CHAIR_READS, latest):
                return ""
            return answer_text(key, latest.get(key))

        history: list[Version] = []
        previous: dict[str, Any] = {}
        for v in versions:
            changed = [
                question_label(k)
                for k in form.BY_KEY
                if v.answers.get(k) != previous.get(k) and consent.permitted(consent.answer(k), Use.CHAIR_READS, latest)
            ]
            history.append(Version(v.version, v.created_at, v.channel, changed))
            previous = v.answers
        invitation = session.scalars(select(Invitation).where(Invitation.used_by_contact_id == contact.id)).first()
        shares = consent.shares_with_chair(latest)
        attachment_item = consent.Item("attachment")
        attachments = (
            list(session.scalars(select(Attachment).where(Attachment.contact_id == contact.id).order_by(Attachment.id)))
            if consent.permitted(attachment_item, Use.CHAIR_READS, latest)
            else []
        )
        people.append(
            Registrant(
                contact_id=contact.id,
                label=t("Person {n}").format(n=n),
                relationship=seen("relationship"),
                relationship_detail=seen("relationship_detail"),
                # Written by staff when inviting them, not by the family.
                invitation_note=(invitation.note or "") if invitation else "",
                shares_with_chair=shares,
                consent_quote=seen("consent_quote"),
                consent_name=seen("consent_name"),
                ways=seen("ways"),
                preferences=[(question_label(k), seen(k)) for k in PREFERENCE_KEYS if k in latest and seen(k)],
                questions=seen("questions") if shares else None,
                versions=history,
                attachments=attachments,
            )
        )
    return people


def queue_state(session: Session, case: Case, now: datetime | None = None) -> QueueState:
    """How many wait, the longest wait, who holds each ticket and its priority (never the content)."""
    now = now or utcnow()
    tickets = session.scalars(
        select(Ticket).where(Ticket.case_id == case.id, Ticket.status.in_(OPEN_STATUSES)).order_by(Ticket.opened_on)
    ).all()
    contact_ids = [
        c for c in session.scalars(select(Contact.id).where(Contact.case_id == case.id).order_by(Contact.id))
    ]
    rows = []
    for ticket in tickets:
        holder = session.get(StaffUser, ticket.assignee_id) if ticket.assignee_id else None
        routed = session.get(StaffUser, ticket.routed_to_id) if ticket.routed_to_id else None
        n = contact_ids.index(ticket.contact_id) + 1 if ticket.contact_id in contact_ids else 0
        rows.append(
            QueueRow(
                ticket_id=ticket.id,
                person=t("Person {n}").format(n=n),
                status=ticket.status,
                priority=ticket.priority,
                holder=holder.display_name
                if holder
                else (t("waiting for {name}").format(name=routed.display_name) if routed else t("organisation queue")),
                waiting_since=ticket.opened_on,
                waiting_minutes=int((now - ticket.opened_on).total_seconds() // 60),
            )
        )
    waiting = [r for r in rows if r.status == WAITING]
    return QueueState(
        waiting=len(waiting),
        active=len(rows) - len(waiting),
        longest_wait_minutes=max((r.waiting_minutes for r in waiting), default=0),
        rows=rows,
    )
