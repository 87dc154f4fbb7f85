"""People's rights over their data: a copy of everything we hold (subject access), erasure, and retention."""

from __future__ import annotations

import argparse
import json
from datetime import date
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from bot.storage.models import (
    Address,
    Attachment,
    AuditEntry,
    Case,
    Contact,
    ContributionPiece,
    ContributionVersion,
    Invitation,
    Message,
    StaffUser,
    Ticket,
    TicketEvent,
)


def subject_access(session: Session, contact_id: int, *, staff_id: int | None) -> dict[str, Any]:
    """Everything held about one person, readable, for a subject access request (audited)."""
    contact = session.get(Contact, contact_id)
    if contact is None:
        raise LookupError(f"no contact {contact_id}")
    case = session.get(Case, contact.case_id) if contact.case_id else None
    session.add(
        AuditEntry(
            staff_id=staff_id,
            action="subject_access",
            object_type="contact",
            object_id=contact_id,
            case_id=contact.case_id,
        )
    )
    return {
        "contact": {
            "id": contact.id,
            "case": case.reference if case else None,
            "language": contact.language,
            "discreet": contact.discreet,
            "stopped": contact.stopped,
            "created_at": contact.created_at.isoformat(),
        },
        "addresses": [
            {"channel": a.channel, "address": a.address}
            for a in session.scalars(select(Address).where(Address.contact_id == contact_id))
        ],
        "messages": [
            {
                "at": m.created_at.isoformat(),
                "direction": m.direction,
                "channel": m.channel,
                "author": m.author,
                "text": m.body,
            }
            for m in session.scalars(select(Message).where(Message.contact_id == contact_id).order_by(Message.id))
        ],
        "contributions": [
            {"version": v.version, "at": v.created_at.isoformat(), "answers": v.answers}
            for v in session.scalars(
                select(ContributionVersion)
                .where(ContributionVersion.contact_id == contact_id)
                .order_by(ContributionVersion.version)
            )
        ],
        "given_to_the_review": [
            {
                "piece": p.piece,
                "kind": p.kind,
                "version": p.version,
                "at": p.created_at.isoformat(),
                "text": p.text,
                "attachment": p.attachment_id,
                "chair_may_read": p.consent_chair,
                "report_may_quote": p.consent_quote,
                "panel_may_see": p.consent_panel,
                "withdrawn": p.withdrawn,
            }
            for p in session.scalars(
                select(ContributionPiece)
                .where(ContributionPiece.contact_id == contact_id)
                .order_by(ContributionPiece.piece, ContributionPiece.version)
            )
        ],
        "attachments": [
            {"id": a.id, "content_type": a.content_type, "at": a.created_at.isoformat()}
            for a in session.scalars(select(Attachment).where(Attachment.contact_id == contact_id))
        ],
        "unsent_form_answers": contact.draft,
        "unsent_contributions": contact.contribution_draft,
    }


def erase(session: Session, contact_id: int, *, staff_id: int | None, reason: str) -> None:
    """Delete everything a person told us and every way to reach them; only an audit line remains."""
    contact = session.get(Contact, contact_id)
    if contact is None:
        raise LookupError(f"no contact {contact_id}")
    case_id = contact.case_id
    ticket_ids = select(Ticket.id).where(Ticket.contact_id == contact_id)
    session.execute(delete(TicketEvent).where(TicketEvent.ticket_id.in_(ticket_ids)))
    session.execute(delete(Ticket).where(Ticket.contact_id == contact_id))
    session.execute(delete(ContributionPiece).where(ContributionPiece.contact_id == contact_id))
    session.execute(delete(Attachment).where(Attachment.contact_id == contact_id))
    session.execute(delete(Message).where(Message.contact_id == contact_id))
    session.execute(delete(ContributionVersion).where(ContributionVersion.contact_id == contact_id))
    session.execute(delete(Address).where(Address.contact_id == contact_id))
    session.execute(
        update(Invitation).where(Invitation.used_by_contact_id == contact_id).values(used_by_contact_id=None)
    )
    session.delete(contact)
    session.add(
        AuditEntry(
            staff_id=staff_id,
            action="erase",
            object_type="contact",
            object_id=contact_id,
            case_id=case_id,
            detail=reason[:500],
        )
    )


def purge_expired_cases(session: Session, today: date) -> int:
    """Erase the people of every case whose retention period has ended; returns how many."""
    expired = select(Case.id).where(Case.retention_until.is_not(None), Case.retention_until < today)
    ids = list(session.scalars(select(Contact.id).where(Contact.case_id.in_(expired))))
    for contact_id in ids:
        erase(session, contact_id, staff_id=None, reason="retention period ended")
    return len(ids)


def add_data_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `dhrbot data export|erase|purge`."""
    data = sub.add_parser("data", help="people's rights: subject access, erasure, retention").add_subparsers(
        dest="data_command", required=True
    )
    export = data.add_parser("export", help="print everything held about one person as JSON")
    export.add_argument("--contact", type=int, required=True)
    export.add_argument("--by", required=True, help="your staff email: the export is audited in your name")
    export.set_defaults(func=_cmd_export)
    remove = data.add_parser("erase", help="erase one person's data (after checking the request is theirs)")
    remove.add_argument("--contact", type=int, required=True)
    remove.add_argument("--reason", required=True)
    remove.add_argument("--by", required=True, help="your staff email: the erasure is audited in your name")
    remove.set_defaults(func=_cmd_erase)
    purge = data.add_parser("purge", help="erase data of cases past their retention date")
    purge.set_defaults(func=_cmd_purge)


def _service() -> Any:
    from bot.service import build_service
    from bot.settings import get_settings

    return build_service(get_settings())


def actor_id(session: Session, email: str) -> int:
    """The active staff account a command-line action is done in the name of (it is audited as theirs)."""
    staff = session.scalars(
        select(StaffUser).where(StaffUser.email == email.strip().lower(), StaffUser.active.is_(True))
    ).first()
    if staff is None:
        raise SystemExit(f"{email} is not an active staff account: actions on people's data are done in a name")
    return staff.id


def _cmd_export(args: argparse.Namespace) -> int:
    with _service().db.session() as s:
        print(json.dumps(subject_access(s, args.contact, staff_id=actor_id(s, args.by)), ensure_ascii=False, indent=2))
    return 0


def _cmd_erase(args: argparse.Namespace) -> int:
    with _service().db.session() as s:
        erase(s, args.contact, staff_id=actor_id(s, args.by), reason=args.reason)
    print(f"contact {args.contact} erased")
    return 0


def _cmd_purge(args: argparse.Namespace) -> int:
    with _service().db.session() as s:
        count = purge_expired_cases(s, date.today())
    print(f"{count} people's data erased")
    return 0
