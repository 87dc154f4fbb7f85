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
from handoff.i18n import t

STAGES = (
    t("Commissioning"),
    t("Conducting the review"),
    t("Overview report"),
    t("Completion and sign-off"),
    t("Dissemination and learning"),
)
# Free-text answers that are the family's own words: shown only with consent to share with the chair.
CONSENTED_TEXT = ("questions",)
PREFERENCE_KEYS = tuple(
    q.key for q in form.QUESTIONS if q.key not in ("relationship", "relationship_detail", *CONSENTED_TEXT)
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
    """Everyone linked to the case, with their latest choices and the history of changes."""
    contacts = session.scalars(select(Contact).where(Contact.case_id == case.id).order_by(Contact.id)).all()
    people = []
    for n, contact in enumerate(contacts, start=1):
        versions = session.scalars(
            select(ContributionVersion)
            .where(ContributionVersion.contact_id == contact.id, ContributionVersion.case_id == case.id)
            .order_by(ContributionVersion.version)
        ).all()
        latest: dict[str, Any] = dict(versions[-1].answers) if versions else {}
        history: list[Version] = []
        previous: dict[str, Any] = {}
        for v in versions:
            changed = [question_label(k) for k in form.BY_KEY if v.answers.get(k) != previous.get(k)]
            history.append(Version(v.version, v.created_at, v.channel, changed))
            previous = v.answers
        invitation = session.scalars(select(Invitation).where(Invitation.used_by_contact_id == contact.id)).first()
        shares = latest.get("consent_share_chair") == "yes"
        attachments = (
            list(session.scalars(select(Attachment).where(Attachment.contact_id == contact.id).order_by(Attachment.id)))
            if shares
            else []
        )
        people.append(
            Registrant(
                contact_id=contact.id,
                label=t("Person {n}").format(n=n),
                relationship=answer_text("relationship", latest.get("relationship")),
                relationship_detail=answer_text("relationship_detail", latest.get("relationship_detail")),
                invitation_note=(invitation.note or "") if invitation else "",
                shares_with_chair=shares,
                consent_quote=answer_text("consent_quote", latest.get("consent_quote")),
                consent_name=answer_text("consent_name", latest.get("consent_name")),
                ways=answer_text("ways", latest.get("ways")),
                preferences=[
                    (question_label(k), answer_text(k, latest[k]))
                    for k in PREFERENCE_KEYS
                    if k in latest and k != "ways" and (shares or k not in form.CONTACT_DETAILS)
                ],
                questions=answer_text("questions", latest.get("questions")) if shares else None,
                versions=history,
                attachments=attachments,
            )
        )
    return people


def queue_state(session: Session, case: Case, now: datetime | None = None) -> QueueState:
    """How many wait, the longest wait, who holds each ticket and its priority (never the content)."""
    now = now or utcnow()
    tickets = session.scalars(
        select(Ticket)
        .where(Ticket.case_id == case.id, Ticket.status.in_(("waiting", "active")))
        .order_by(Ticket.opened_on)
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
    waiting = [r for r in rows if r.status == "waiting"]
    return QueueState(
        waiting=len(waiting),
        active=len(rows) - len(waiting),
        longest_wait_minutes=max((r.waiting_minutes for r in waiting), default=0),
        rows=rows,
    )
