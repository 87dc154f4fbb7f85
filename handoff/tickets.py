"""Named operations on a ticket (take, reply, note, hand back, transfer, close, escalate).

Views never edit ticket rows: they call these, and each one records a TicketEvent saying who acted,
and an audit entry. Taking a ticket is one conditional UPDATE, so two advocates can never both hold it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.content.helplines import Helplines
from bot.i18n import BY_CODE, _, current_language, isolate
from bot.storage.models import Case, Contact, Message, StaffUser, Ticket, TicketEvent, utcnow
from bot.storage.outbox import enqueue
from handoff.access import may_hold
from handoff.audit import audit
from handoff.queue import ACTIVE, CLOSED, OPEN_STATUSES, RETURNED, URGENT, WAITING, routing_chain
from handoff.rota import DEFAULT_TIMEZONE, hours_for, shift_ending

# If nobody takes an urgent ticket within this time it goes to the next person (lead -> deputy -> queue).
ESCALATE_URGENT_AFTER = timedelta(minutes=10)
# An advocate's reply goes at once if the person wrote this recently (they are at their phone);
# otherwise the dispatcher waits for the safe days and times they chose.
RECENTLY_ACTIVE = timedelta(minutes=30)


class TicketError(ValueError):
    """An operation that does not fit the ticket's state (e.g. replying to a ticket someone else holds)."""


def _event(
    session: Session, ticket: Ticket, kind: str, staff: StaffUser | None, note: str | None = None
) -> TicketEvent:
    event = TicketEvent(ticket_id=ticket.id, kind=kind, staff_id=staff.id if staff else None, note=note)
    session.add(event)
    return event


def _contact(session: Session, ticket: Ticket) -> Contact:
    contact = session.get(Contact, ticket.contact_id)
    assert contact is not None
    return contact


def take(session: Session, ticket: Ticket, staff: StaffUser, now: datetime | None = None) -> bool:
    """Claim a waiting ticket; False if someone else got there first. The bot goes silent for this person."""
    now = now or utcnow()
    claimed = session.execute(
        update(Ticket)
        .where(Ticket.id == ticket.id, Ticket.status == WAITING, Ticket.assignee_id.is_(None))
        .values(status=ACTIVE, assignee_id=staff.id, last_activity_on=now)
        .execution_options(synchronize_session=False)
    )
    session.refresh(ticket)
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return False
    _contact(session, ticket).human_holds = True
    _event(session, ticket, "taken", staff)
    audit(session, staff, "assign", "ticket", ticket.id, case_id=ticket.case_id, detail="taken")
    return True


def _require_holder(ticket: Ticket, staff: StaffUser) -> None:
    if ticket.status != ACTIVE or ticket.assignee_id != staff.id:
        raise TicketError("take the conversation first: only the advocate holding it can do this")


def reply(session: Session, ticket: Ticket, staff: StaffUser, text: str, now: datetime | None = None) -> Message:
    """Send the family a message through their own channel, via the outbox."""
    _require_holder(ticket, staff)
    text = text.strip()
    if not text:
        raise TicketError("the reply is empty")
    now = now or utcnow()
    contact = _contact(session, ticket)
    if contact.stopped:
        raise TicketError("this person sent STOP: no messages can be sent until they write again")
    recent = contact.last_inbound_at is not None and now - contact.last_inbound_at <= RECENTLY_ACTIVE
    message = enqueue(session, contact, text, author="advocate", staff_id=staff.id, prompted=recent)
    if message is None:
        raise TicketError("this person has no address to reply to")
    ticket.replied_on = now
    ticket.last_activity_on = now
    _event(session, ticket, "reply", staff)
    return message


def add_note(session: Session, ticket: Ticket, staff: StaffUser, text: str) -> TicketEvent:
    """A private note for advocates (encrypted; never shown to chairs or families)."""
    text = text.strip()
    if not text:
        raise TicketError("the note is empty")
    ticket.last_activity_on = utcnow()
    return _event(session, ticket, "note", staff, note=text)


def _end(session: Session, ticket: Ticket, staff: StaffUser, status: str, kind: str, detail: str) -> None:
    """End the period of human contact (only its holder may end a held ticket); the bot answers again."""
    if ticket.status == ACTIVE:
        _require_holder(ticket, staff)
    elif ticket.status != WAITING:
        raise TicketError("this ticket is not open")
    ticket.status = status
    ticket.closed_on = ticket.last_activity_on = utcnow()
    _contact(session, ticket).human_holds = False
    _event(session, ticket, kind, staff)
    audit(session, staff, "status", "ticket", ticket.id, case_id=ticket.case_id, detail=detail)


def hand_back(session: Session, ticket: Ticket, staff: StaffUser) -> None:
    """Return the person to the bot: the ticket ends as "returned" and nobody holds it."""
    _end(session, ticket, staff, RETURNED, "handed_back", "returned to the bot")
    ticket.assignee_id = None


def transfer(session: Session, ticket: Ticket, staff: StaffUser, target: StaffUser) -> None:
    """Give the ticket to another advocate who may see it; if it was held, they now hold it."""
    if ticket.status not in OPEN_STATUSES:
        raise TicketError("this ticket is not open")
    if ticket.status == ACTIVE:
        _require_holder(ticket, staff)
    if target.id == staff.id or not may_hold(session, target, ticket):
        raise TicketError("that advocate cannot take this conversation")
    ticket.routed_to_id = target.id
    if ticket.status == ACTIVE:
        ticket.assignee_id = target.id
    ticket.last_activity_on = utcnow()
    _event(session, ticket, "transferred", staff, note=f"to {target.display_name}")
    audit(
        session,
        staff,
        "assign",
        "ticket",
        ticket.id,
        case_id=ticket.case_id,
        detail=f"transferred to staff {target.id}",
    )


def link_to_case(session: Session, ticket: Ticket, staff: StaffUser, case: Case) -> None:
    """Link a ticket (and its person, if not yet linked) to a case the advocate works on."""
    if ticket.case_id is not None:
        raise TicketError("this ticket is already linked to a case")
    works_on = staff.id in (case.lead_advocate_id, case.deputy_advocate_id) or (
        staff.organisation_id is not None and case.organisation_id == staff.organisation_id
    )
    if not works_on:
        raise TicketError("you can only link a ticket to a case you work on")
    ticket.case_id, ticket.organisation_id = case.id, case.organisation_id
    contact = _contact(session, ticket)
    if contact.case_id is None:
        contact.case_id = case.id
    ticket.last_activity_on = utcnow()
    _event(session, ticket, "linked", staff, note=case.reference)
    audit(session, staff, "assign", "ticket", ticket.id, case_id=case.id, detail=f"linked to case {case.reference}")


def close(session: Session, ticket: Ticket, staff: StaffUser) -> None:
    """End the period of human contact; the bot answers the person again."""
    _end(session, ticket, staff, CLOSED, "closed", "closed")


# ---------------------------------------------------------------------------------------- escalation
def escalate_overdue(
    session: Session, now: datetime | None = None, after: timedelta = ESCALATE_URGENT_AFTER
) -> list[Ticket]:
    """For the worker's timer: urgent tickets nobody took in time go to the next person in the chain."""
    now = now or utcnow()
    query = select(Ticket).where(
        Ticket.status == WAITING,
        Ticket.priority == URGENT,
        Ticket.assignee_id.is_(None),
        Ticket.routed_to_id.is_not(None),
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)  # several workers: each ticket escalated once
    moved = []
    for ticket in session.scalars(query):
        if now - ticket.opened_on < after * (ticket.escalations + 1):
            continue
        chain = routing_chain(session, _contact(session, ticket), urgent=True, now=now)
        position = chain.index(ticket.routed_to_id) if ticket.routed_to_id in chain else len(chain) - 1
        ticket.routed_to_id = chain[position + 1] if position + 1 < len(chain) else None
        ticket.escalations += 1
        ticket.last_activity_on = now
        target = f"staff {ticket.routed_to_id}" if ticket.routed_to_id else "the organisation queue"
        _event(
            session,
            ticket,
            "escalated",
            None,
            note=f"not taken in {int(after.total_seconds() // 60)} minutes: to {target}",
        )
        audit(session, None, "assign", "ticket", ticket.id, case_id=ticket.case_id, detail=f"escalated to {target}")
        moved.append(ticket)
    return moved


def reply_expectation(
    session: Session, ticket: Ticket, now: datetime | None = None, helplines: Helplines | None = None
) -> str:
    """Family-facing: honestly when a person will reply; outside working hours, who to call meanwhile.

    Call it inside `use_language(contact.language)`, right after opening the ticket. It does not repeat
    the emergency number: the caller already says "If you are in danger, call 999".
    """
    now = now or utcnow()
    hours = hours_for(session, ticket)
    if hours.is_open(now):
        return _("Someone from our team is working now and will reply as soon as they can.")
    if ticket.routed_to_id is not None and shift_ending(session, ticket.routed_to_id, now) is not None:
        return _("Someone from our team is on call now and has been asked to reply to you as soon as they can.")
    contact = _contact(session, ticket)
    opening = hours.next_opening(now)
    if opening is None:
        lines = [_("Our team is not working right now. Someone will reply as soon as they can.")]
    else:
        locale = BY_CODE[current_language()].locale
        local = opening.astimezone(ZoneInfo(contact.timezone or DEFAULT_TIMEZONE))
        lines = [
            _("Our team is not working right now. Someone will reply on {day}, after {time}.").format(
                day=format_date(local.date(), format="full", locale=locale),
                time=isolate(format_time(local.time(), format="short", locale=locale)),
            )
        ]
    if helplines is not None:
        topic = "self_harm" if ticket.reason == "self_harm_risk" else "safety"
        around_the_clock = helplines.for_topic(topic) or helplines.for_topic("distress")
        if around_the_clock:
            lines.append(_("While you wait, you can talk to someone now:"))
            lines += ["• " + h.render() for h in around_the_clock]
    return "\n".join(lines)
