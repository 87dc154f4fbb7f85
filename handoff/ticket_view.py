"""What an advocate needs on one ticket's page, gathered in one place: why it was raised, by which message,
who it waits for, when it escalates, and the conversation with the assistant's routine messages folded away."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.i18n import BY_CODE
from bot.storage.models import Case, Contact, Message, StaffUser, Ticket, TicketEvent, utcnow
from handoff import wording
from handoff.access import advocate_case_ids
from handoff.i18n import t
from handoff.queue import URGENT, WAITING, routing_chain
from handoff.translation import english_source

HISTORY = 200  # messages shown; older ones stay stored


@dataclass
class Line:
    """One message as the advocate reads it (with the English source of the assistant's own words)."""

    message: Message
    english: str | None = None
    trigger: bool = False


@dataclass
class Block:
    """A run of messages: the family's and advocates' shown open, the assistant's routine folded away."""

    folded: bool
    lines: list[Line] = field(default_factory=list)


@dataclass
class TicketView:
    """Everything the ticket page shows."""

    ticket: Ticket
    contact: Contact
    case: Case | None
    reason: str
    language: str
    trigger: Message | None
    waiting_for: str
    holder: str
    escalation: str
    blocks: list[Block]
    events: list[TicketEvent]
    staff_names: dict[int, str]
    linkable_cases: list[Case]
    last_message_id: int


def trigger_message(session: Session, ticket: Ticket) -> Message | None:
    """The family message that raised the ticket, or made it urgent."""
    moment = ticket.opened_on
    if ticket.priority == URGENT:
        raised = session.scalar(
            select(TicketEvent.created_at)
            .where(TicketEvent.ticket_id == ticket.id, TicketEvent.kind == "raised_urgent")
            .order_by(TicketEvent.id.desc())
        )
        moment = raised or moment
    return session.scalars(
        select(Message)
        .where(Message.contact_id == ticket.contact_id, Message.direction == "in", Message.created_at <= moment)
        .order_by(Message.id.desc())
        .limit(1)
    ).first()


def escalation_clock(session: Session, ticket: Ticket, after: timedelta, now: datetime | None = None) -> str:
    """When an urgent ticket nobody has taken moves to the next person, in plain words."""
    if ticket.status != WAITING or ticket.priority != URGENT:
        return ""
    now = now or utcnow()
    if ticket.routed_to_id is None:
        return t("In the organisation queue: every advocate of the organisation sees it.")
    contact = session.get(Contact, ticket.contact_id)
    chain = routing_chain(session, contact, urgent=True, now=now) if contact else []
    position = chain.index(ticket.routed_to_id) if ticket.routed_to_id in chain else len(chain) - 1
    nxt = session.get(StaffUser, chain[position + 1]) if position + 1 < len(chain) else None
    due = ticket.opened_on + after * (ticket.escalations + 1)
    minutes = max(0, int((due - now).total_seconds() // 60))
    target = nxt.display_name if nxt else t("the organisation queue")
    if minutes == 0:
        return t("Due to move to {target} now.").format(target=target)
    return t("Moves to {target} in {n} min if nobody takes it.").format(target=target, n=minutes)


def _blocks(messages: list[Message], language: str | None, trigger: Message | None) -> list[Block]:
    blocks: list[Block] = []
    for message in messages:
        routine = message.author == "bot"
        english = english_source(message.body or "", language) if message.direction == "out" else None
        line = Line(message, english, trigger is not None and message.id == trigger.id)
        if blocks and blocks[-1].folded == routine:
            blocks[-1].lines.append(line)
        else:
            blocks.append(Block(routine, [line]))
    # The assistant's last words are what the family saw last: keep them in sight.
    if blocks and blocks[-1].folded and len(blocks[-1].lines) > 1:
        last = blocks[-1].lines.pop()
        blocks.append(Block(False, [last]))
    return blocks


def ticket_view(session: Session, ticket: Ticket, viewer: StaffUser, escalate_after: timedelta) -> TicketView:
    """Gather the ticket page for an advocate who may see this ticket."""
    contact = session.get(Contact, ticket.contact_id)
    assert contact is not None
    messages = list(
        reversed(
            session.scalars(
                select(Message).where(Message.contact_id == contact.id).order_by(Message.id.desc()).limit(HISTORY)
            ).all()
        )
    )
    trigger = trigger_message(session, ticket)
    names = {u.id: u.display_name for u in session.scalars(select(StaffUser))}
    language = BY_CODE.get(contact.language or "")
    linkable: list[Case] = []
    if ticket.case_id is None:
        mine = select(Case).where(Case.id.in_(advocate_case_ids(viewer)))
        if viewer.organisation_id is not None:
            mine = select(Case).where(
                (Case.id.in_(advocate_case_ids(viewer))) | (Case.organisation_id == viewer.organisation_id)
            )
        linkable = list(session.scalars(mine.order_by(Case.reference)))
    return TicketView(
        ticket=ticket,
        contact=contact,
        case=session.get(Case, ticket.case_id) if ticket.case_id else None,
        reason=wording.reason(ticket.reason),
        language=language.english_name if language else t("not chosen yet"),
        trigger=trigger,
        waiting_for=names.get(ticket.routed_to_id or 0, t("the organisation queue")),
        holder=names.get(ticket.assignee_id or 0, ""),
        escalation=escalation_clock(session, ticket, escalate_after),
        blocks=_blocks(messages, contact.language, trigger),
        events=list(
            session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id).order_by(TicketEvent.id))
        ),
        staff_names=names,
        linkable_cases=linkable,
        last_message_id=messages[-1].id if messages else 0,
    )
