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
from bot.dialogue.contributions import ACCOUNT, FILE, NAME, PORTRAIT, latest_pieces
from bot.storage.models import (
    Attachment,
    Case,
    Contact,
    ContributionPiece,
    ContributionVersion,
    Invitation,
    StaffUser,
    Ticket,
    utcnow,
)
from handoff import consent
from handoff.consent import Use
from handoff.i18n import t
from handoff.queue import OPEN_STATUSES, WAITING

# How the chair's page groups a person's answers: how to reach them safely, and what they need to take part.
CONTACT_KEYS = (
    form.CONTACT_CHANNEL, *form.CONTACT_DETAILS, form.SAFE_DAYS, form.SAFE_TIMES, form.LEAVE_MESSAGES,
    form.DISCREET_WORDING,
)  # fmt: skip
NEEDS_KEYS = (
    form.MEETING_LANGUAGE, form.DIALECT, form.INTERPRETER, form.INTERPRETER_OUTSIDE_COMMUNITY, form.ACCESSIBILITY,
    form.HAS_ADVOCATE, form.WANTS_ADVOCATE, form.SPECIALIST_ADVOCATE,
)  # fmt: skip
SHOWN_APART = (form.RELATIONSHIP, form.RELATIONSHIP_DETAIL, form.WAYS, form.QUESTIONS_FOR_REVIEW, *consent.CONSENT_KEYS)
NOT_ANSWERED = t("not answered")


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
    if key == form.RELATIONSHIP and value in RELATIONSHIPS:
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
class Change:
    """One answer that changed between two versions: from what, to what; a consent withdrawn is flagged."""

    label: str
    old: str
    new: str
    withdrawn: bool = False


@dataclass
class Version:
    """One confirmed version of a person's choices, and what changed from the one before."""

    number: int
    created_at: datetime
    channel: str
    changes: list[Change]

    @property
    def changed(self) -> list[str]:
        """The labels of the answers that changed."""
        return [c.label for c in self.changes]

    @property
    def withdraws_consent(self) -> bool:
        """Whether this version took back a consent given before."""
        return any(c.withdrawn for c in self.changes)


# What the family gave the review in the chat, as staff name it.
GIVEN_LABELS = {
    ACCOUNT: t("Written account"),
    PORTRAIT: t("Who they were, in the family's words"),
    NAME: t("Name suggested for the report"),
    FILE: t("Voice note, photo or document"),
}


@dataclass
class Given:
    """Something a person gave the review (an account, a portrait, a name, a file) that the chair may read."""

    piece: str
    kind: str
    label: str
    text: str
    attachment: Attachment | None
    version: int
    created_at: datetime
    may_quote: bool
    may_share_with_panel: bool


def piece_item(piece: ContributionPiece) -> consent.Item:
    """A given piece as the consent rule sees it: it carries its own yes or no for each use."""
    return consent.Item(
        "attachment" if piece.kind == FILE else "contribution",
        piece.piece,
        {
            Use.CHAIR_READS: piece.consent_chair and not piece.withdrawn,
            Use.QUOTED_IN_REPORT: piece.consent_quote and not piece.withdrawn,
            Use.SHARED_WITH_PANEL: piece.consent_panel and not piece.withdrawn,
        },
    )


def _given(pieces: list[ContributionPiece], attachments: dict[int, Attachment], latest: dict[str, Any]) -> list[Given]:
    """The latest version of each piece the chair may read, with what else each may be used for."""
    given = []
    for piece in pieces:
        item = piece_item(piece)
        if not consent.permitted(item, Use.CHAIR_READS, latest):
            continue
        given.append(
            Given(
                piece=piece.piece,
                kind=piece.kind,
                label=GIVEN_LABELS.get(piece.kind, piece.kind),
                text=piece.text or "",
                attachment=attachments.get(piece.attachment_id) if piece.attachment_id else None,
                version=piece.version,
                created_at=piece.created_at,
                may_quote=consent.permitted(item, Use.QUOTED_IN_REPORT, latest),
                may_share_with_panel=consent.permitted(item, Use.SHARED_WITH_PANEL, latest),
            )
        )
    return given


def _files_being_given(contact: Contact) -> set[int]:
    """Files a person has sent as part of something not yet confirmed: not given, so never shown."""
    drafts = contact.contribution_draft or {}
    return {
        int(f["id"])
        for draft in drafts.values()
        if isinstance(draft, dict)
        for f in draft.get("files", [])
        if isinstance(f, dict) and "id" in f
    }


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
    contact: list[tuple[str, str]]
    needs: list[tuple[str, str]]
    other_answers: list[tuple[str, str]]
    questions: str | None
    versions: list[Version]
    # Every file the chair may open: files given with their own consent, and others by the form's consent.
    attachments: list[Attachment] = field(default_factory=list)
    given: list[Given] = field(default_factory=list)

    @property
    def other_attachments(self) -> list[Attachment]:
        """Files the chair may open that were not given as part of a contribution."""
        given = {g.attachment.id for g in self.given if g.attachment is not None}
        return [a for a in self.attachments if a.id not in given]

    @property
    def preferences(self) -> list[tuple[str, str]]:
        """Every grouped answer, for exports that list them together."""
        return [*self.contact, *self.needs, *self.other_answers]


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


def _history(versions: list[ContributionVersion], latest: dict[str, Any]) -> list[Version]:
    """Each version as old -> new for what the chair may see; consent changes always, withdrawals flagged."""
    history: list[Version] = []
    previous: dict[str, Any] = {}
    for v in versions:
        changes = []
        for key in form.BY_KEY:
            old, new = previous.get(key), v.answers.get(key)
            if old == new or not consent.permitted(consent.answer(key), Use.CHAIR_READS, latest):
                continue
            withdrawn = key in consent.CONSENT_KEYS and old == consent.YES and new != consent.YES
            changes.append(
                Change(
                    question_label(key),
                    answer_text(key, old) or NOT_ANSWERED,
                    answer_text(key, new) or NOT_ANSWERED,
                    withdrawn,
                )
            )
        history.append(Version(v.version, v.created_at, v.channel, changes))
        previous = v.answers
    return history


def registrants(session: Session, case: Case) -> list[Registrant]:
    """Everyone linked to the case, with their latest choices and the history of changes, as the chair may see them.

    Each answer goes through the consent rule: without a yes to sharing with the chair, the chair learns
    only that the person registered and what they consented to (and any consent they withdrew).
    """
    contacts = session.scalars(select(Contact).where(Contact.case_id == case.id).order_by(Contact.id)).all()
    ids = [c.id for c in contacts]
    all_versions = session.scalars(
        select(ContributionVersion)
        .where(ContributionVersion.contact_id.in_(ids), ContributionVersion.case_id == case.id)
        .order_by(ContributionVersion.contact_id, ContributionVersion.version)
    ).all()
    invitations = {
        i.used_by_contact_id: i
        for i in session.scalars(select(Invitation).where(Invitation.used_by_contact_id.in_(ids)))
    }
    attachments_of: dict[int, list[Attachment]] = {}
    for attachment in session.scalars(select(Attachment).where(Attachment.contact_id.in_(ids)).order_by(Attachment.id)):
        attachments_of.setdefault(attachment.contact_id, []).append(attachment)
    attachments_by_id = {a.id: a for found in attachments_of.values() for a in found}
    pieces_of: dict[int, list[ContributionPiece]] = {}
    for piece in latest_pieces(session, ids):
        pieces_of.setdefault(piece.contact_id, []).append(piece)
    people = []
    for n, contact in enumerate(contacts, start=1):
        versions = [v for v in all_versions if v.contact_id == contact.id]
        latest: dict[str, Any] = dict(versions[-1].answers) if versions else {}

        def seen(key: str, latest: dict[str, Any] = latest) -> str:
            """An answer as the chair may read it: empty where consent does not allow it."""
            if not consent.permitted(consent.answer(key), Use.CHAIR_READS, latest):
                return ""
            return answer_text(key, latest.get(key)) or NOT_ANSWERED

        def group(keys: tuple[str, ...] | list[str], seen: Any = seen) -> list[tuple[str, str]]:
            return [(question_label(k), seen(k)) for k in keys if seen(k)]

        asked = [q.key for q in form.applicable(latest)] if latest else []
        other = [k for k in asked if k not in (*CONTACT_KEYS, *NEEDS_KEYS, *SHOWN_APART)]
        invitation = invitations.get(contact.id)
        shares = consent.shares_with_chair(latest)
        attachment_item = consent.Item("attachment")
        pieces = pieces_of.get(contact.id, [])
        given = _given(pieces, attachments_by_id, latest)
        # A file that is part of a piece follows that piece's own consents, withdrawn or not; a file
        # still being given is not shown at all; any other file follows the form's consent.
        in_pieces = {p.attachment_id for p in pieces if p.attachment_id} | _files_being_given(contact)
        loose = [a for a in attachments_of.get(contact.id, []) if a.id not in in_pieces]
        if not consent.permitted(attachment_item, Use.CHAIR_READS, latest):
            loose = []
        people.append(
            Registrant(
                contact_id=contact.id,
                label=t("Person {n}").format(n=n),
                relationship=seen(form.RELATIONSHIP),
                relationship_detail=seen(form.RELATIONSHIP_DETAIL) if form.RELATIONSHIP_DETAIL in latest else "",
                # Written by staff when inviting them, not by the family.
                invitation_note=(invitation.note or "") if invitation else "",
                shares_with_chair=shares,
                consent_quote=seen(form.CONSENT_QUOTE),
                consent_name=seen(form.CONSENT_NAME),
                ways=seen(form.WAYS),
                contact=group([k for k in CONTACT_KEYS if k in asked]),
                needs=group([k for k in NEEDS_KEYS if k in asked]),
                other_answers=group(other),
                questions=seen(form.QUESTIONS_FOR_REVIEW) if shares else None,
                versions=_history(versions, latest),
                attachments=[g.attachment for g in given if g.attachment is not None] + loose,
                given=given,
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
