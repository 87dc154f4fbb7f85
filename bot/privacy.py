"""People's rights over their data: a copy of everything we hold (subject access), erasure, and retention."""

from __future__ import annotations

import argparse
import base64
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, select, update
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
    """Everything held about one person, readable, for a subject access request (audited).

    Advocates' notes about them are included and marked: UK GDPR subject access covers them unless an
    exemption applies, which is for a person to decide, not this command.
    """
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
    staff_names = {u.id: u.display_name for u in session.scalars(select(StaffUser))}
    versions = list(
        session.scalars(
            select(ContributionVersion)
            .where(ContributionVersion.contact_id == contact_id)
            .order_by(ContributionVersion.version)
        )
    )
    latest_answers = contact.draft or (versions[-1].answers if versions else {}) or {}
    tickets = list(session.scalars(select(Ticket).where(Ticket.contact_id == contact_id).order_by(Ticket.id)))
    return {
        "contact": {
            "id": contact.id,
            "case": case.reference if case else None,
            "language": contact.language,
            "discreet": contact.discreet,
            "safe_to_talk": contact.safe_to_talk,
            "stopped": contact.stopped,
            "created_at": contact.created_at.isoformat(),
            "last_wrote_at": _iso(contact.last_inbound_at),
            "advocate": staff_names.get(contact.advocate_id) if contact.advocate_id else None,
        },
        "conversation_state": {
            "state": contact.state,
            "details": {k: v for k, v in (contact.state_data or {}).items() if k not in _INTERNAL_STATE},
            "advocate_holds_the_conversation": contact.human_holds,
            "has_resume_code": contact.resume_code_hash is not None,
        },
        "safe_times": {
            "days": latest_answers.get("safe_days"),
            "times": latest_answers.get("safe_times"),
            "timezone": contact.timezone,
        },
        "addresses": [
            {"channel": a.channel, "address": _shown_address(a)}
            for a in session.scalars(select(Address).where(Address.contact_id == contact_id).order_by(Address.id))
        ],
        "messages": [
            {
                "at": m.created_at.isoformat(),
                "direction": m.direction,
                "channel": m.channel,
                "author": m.author,
                "text": m.body,
                "status": m.status,
            }
            for m in session.scalars(select(Message).where(Message.contact_id == contact_id).order_by(Message.id))
        ],
        "contributions": [
            {"version": v.version, "at": v.created_at.isoformat(), "answers": v.answers} for v in versions
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
            {
                "id": a.id,
                "content_type": a.content_type,
                "at": a.created_at.isoformat(),
                "content_base64": a.data,
            }
            for a in session.scalars(
                select(Attachment).where(Attachment.contact_id == contact_id).order_by(Attachment.id)
            )
        ],
        "unsent_form_answers": contact.draft,
        "unsent_contributions": contact.contribution_draft,
        "tickets": [
            {
                "id": tk.id,
                "reason": tk.reason,
                "priority": tk.priority,
                "status": tk.status,
                "opened_on": tk.opened_on.isoformat(),
                "closed_on": _iso(tk.closed_on),
                "held_by": staff_names.get(tk.assignee_id) if tk.assignee_id else None,
                "events": [
                    {
                        "at": e.created_at.isoformat(),
                        "what": e.kind,
                        "by": staff_names.get(e.staff_id) if e.staff_id else None,
                        **_event_detail(e),
                    }
                    for e in session.scalars(
                        select(TicketEvent).where(TicketEvent.ticket_id == tk.id).order_by(TicketEvent.id)
                    )
                ],
            }
            for tk in tickets
        ],
    }


ADVOCATE_NOTE_MARK = "advocate's note about you, written by staff (check for exemptions before release)"
# Bookkeeping of the conversation itself (codes' hashes, counters), not information about the person.
_INTERNAL_STATE = {"pending_code"}


def _event_detail(event: TicketEvent) -> dict[str, str]:
    """An advocate's note, marked as one; or what else the event recorded (to whom, which case)."""
    if not event.note:
        return {}
    if event.kind == "note":
        return {"advocate_note": event.note, "marked": ADVOCATE_NOTE_MARK}
    return {"detail": event.note}


def _shown_address(address: Address) -> str:
    """A phone number or chat as it is; a web chat's session id is a key to the conversation, so never."""
    if address.channel in SESSION_CHANNELS:
        return "a web chat session (its key is not shown)"
    return address.address


SESSION_CHANNELS = {"web"}


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def subject_access_pdf(copy: dict[str, Any]) -> bytes:
    """The same copy as a readable document in the person's language: sections in plain words."""
    from bot.i18n import _, use_language
    from handoff.exports import SENSITIVITY, unicode_pdf

    pdf = unicode_pdf()
    pdf.add_page()

    def line(text: str, size: int = 10, gap: float = 5) -> None:
        pdf.set_font("main", size=size)
        pdf.multi_cell(0, gap, text, new_x="LMARGIN", new_y="NEXT")

    person = copy["contact"]
    with use_language(person["language"]):
        line(SENSITIVITY, 9)
        line(_("Everything we hold about you"), 16, 9)
        line(_("Review: {reference}").format(reference=person["case"] or _("not linked to a review")))
        line(_("First message: {when}").format(when=person["created_at"][:16]))
        safe = copy["safe_times"]
        line(
            _("Safe days: {days}. Safe times: {times}.").format(
                days=", ".join(safe["days"] or []) or "-", times=", ".join(safe["times"] or []) or "-"
            )
        )
        line(_("How we reach you"), 13, 8)
        for a in copy["addresses"]:
            line(f"{a['channel']}: {a['address']}")
        line(_("Messages"), 13, 8)
        for m in copy["messages"]:
            who = _("You") if m["direction"] == "in" else m["author"]
            line(f"{m['at'][:16]}  {who} ({m['channel']}): {m['text']}")
        line(_("Your answers"), 13, 8)
        for v in copy["contributions"]:
            line(_("Version {number}").format(number=v["version"]) + f" ({v['at'][:16]})", 11)
            for key, value in (v["answers"] or {}).items():
                line(f"{key}: {value}")
        if copy["unsent_form_answers"]:
            line(_("Answers not sent yet"), 11)
            for key, value in copy["unsent_form_answers"].items():
                line(f"{key}: {value}")
        line(_("Talking with an advocate"), 13, 8)
        for tk in copy["tickets"]:
            line(f"{tk['opened_on'][:16]}  {tk['reason']} ({tk['status']})", 11)
            for e in tk["events"]:
                line(f"{e['at'][:16]}  {e['what']}" + (f" ({e['by']})" if e["by"] else ""))
                if "advocate_note" in e:
                    line(_("Advocate's note about you: {note}").format(note=e["advocate_note"]))
                elif "detail" in e:
                    line(e["detail"])
        line(_("Files you sent"), 13, 8)
        for a in copy["attachments"]:
            line(f"{a['at'][:16]}  {a['content_type']}")
            if a["content_type"].startswith("text/"):  # a written account reads as itself
                line(base64.b64decode(a["content_base64"]).decode("utf-8", errors="replace"))
    return bytes(pdf.output())


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


def close_case(session: Session, case: Case, *, today: date, months: int, staff_id: int | None) -> date:
    """Close a review: its people's data is kept `months` more, then erased by the daily purge."""
    case.closed_on = today
    case.retention_until = add_months(today, months)
    session.add(
        AuditEntry(
            staff_id=staff_id,
            action="close_case",
            object_type="case",
            object_id=case.id,
            case_id=case.id,
            detail=f"kept until {case.retention_until.isoformat()}",
        )
    )
    return case.retention_until


def add_months(day: date, months: int) -> date:
    """The same day `months` later (the month's last day when it is shorter)."""
    import calendar

    year, month = divmod(day.month - 1 + months, 12)
    year, month = day.year + year, month + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def purge_unlinked_contacts(session: Session, today: date, *, after_days: int) -> int:
    """Erase people never linked to a case who have not written for `after_days`; returns how many.

    Someone an advocate is still helping (an open ticket) is kept, however long ago they wrote.
    """
    cutoff = datetime.combine(today - timedelta(days=after_days), datetime.min.time(), tzinfo=UTC)
    open_tickets = select(Ticket.contact_id).where(Ticket.status != "closed")
    last_wrote = func.coalesce(Contact.last_inbound_at, Contact.created_at)
    ids = list(
        session.scalars(
            select(Contact.id).where(Contact.case_id.is_(None), last_wrote < cutoff, Contact.id.not_in(open_tickets))
        )
    )
    for contact_id in ids:
        erase(session, contact_id, staff_id=None, reason=f"never linked to a review; silent for {after_days} days")
    return len(ids)


def purge(session: Session, today: date, *, unlinked_after_days: int) -> int:
    """Everything retention asks for today: closed cases past their date, and long-silent unlinked people."""
    return purge_expired_cases(session, today) + purge_unlinked_contacts(session, today, after_days=unlinked_after_days)


def add_data_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `dhrbot data export|erase|purge|rotate-key` and `dhrbot case close`."""
    data = sub.add_parser("data", help="people's rights: subject access, erasure, retention").add_subparsers(
        dest="data_command", required=True
    )
    export = data.add_parser("export", help="print everything held about one person as JSON (and a PDF)")
    export.add_argument("--contact", type=int, required=True)
    export.add_argument("--by", required=True, help="your staff email: the export is audited in your name")
    export.add_argument("--pdf", type=Path, help="also write a readable PDF copy to this file")
    export.set_defaults(func=_cmd_export)
    remove = data.add_parser("erase", help="erase one person's data (after checking the request is theirs)")
    remove.add_argument("--contact", type=int, required=True)
    remove.add_argument("--reason", required=True)
    remove.add_argument("--by", required=True, help="your staff email: the erasure is audited in your name")
    remove.set_defaults(func=_cmd_erase)
    purge_cmd = data.add_parser(
        "purge", help="erase data of closed cases past their retention date and of long-silent unlinked people"
    )
    purge_cmd.set_defaults(func=_cmd_purge)
    rotate = data.add_parser(
        "rotate-key", help="re-encrypt everything under the newest DATA_KEY (resumable; see docs/data-protection.md)"
    )
    rotate.add_argument("--batch", type=int, default=500, help="rows per transaction")
    rotate.set_defaults(func=_cmd_rotate_key)


def add_case_close_command(case: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `dhrbot case close`."""
    close = case.add_parser("close", help="close a case: its data is kept RETENTION_MONTHS_AFTER_CLOSE more")
    close.add_argument("--reference", required=True)
    close.add_argument("--by", required=True, help="your staff email: the closure is audited in your name")
    close.set_defaults(func=_cmd_case_close)


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
        copy = subject_access(s, args.contact, staff_id=actor_id(s, args.by))
    print(json.dumps(copy, ensure_ascii=False, indent=2))
    if args.pdf:
        args.pdf.write_bytes(subject_access_pdf(copy))
    return 0


def _cmd_erase(args: argparse.Namespace) -> int:
    with _service().db.session() as s:
        erase(s, args.contact, staff_id=actor_id(s, args.by), reason=args.reason)
    print(f"contact {args.contact} erased")
    return 0


def _cmd_purge(args: argparse.Namespace) -> int:
    service = _service()
    with service.db.session() as s:
        count = purge(s, date.today(), unlinked_after_days=service.settings.unlinked_contact_retention_days)
    print(f"{count} people's data erased")
    return 0


def _cmd_rotate_key(args: argparse.Namespace) -> int:
    from bot.storage.rotation import left_on_older_keys, rotate_keys

    service = _service()
    report = rotate_keys(service.db, batch=args.batch, progress=print)
    left = left_on_older_keys(service.db)
    print(f"{report.total} values re-encrypted, {report.reindexed} addresses re-indexed; {left} left on older keys")
    if left:
        print("run it again (something was written under an older key meanwhile)")
        return 1
    print("every stored value is under the newest key: older keys can be removed from DATA_KEY")
    with service.db.session() as s:
        now = datetime.now(UTC)
        pending = s.scalars(
            select(Invitation.expires_at).where(Invitation.used_at.is_(None), Invitation.expires_at > now)
        ).all()
        resumable = s.scalar(select(func.count(Contact.id)).where(Contact.resume_code_hash.is_not(None)))
    if pending or resumable:
        last = f" (the last expires {max(pending).date().isoformat()})" if pending else ""
        print(
            f"{len(pending)} unused invitation codes{last} and {resumable} RESUME codes are kept only as hashes: "
            "those issued before the new key went in front stop working when the old key goes "
            "(docs/data-protection.md, step 4)"
        )
    return 0


def _cmd_case_close(args: argparse.Namespace) -> int:
    service = _service()
    with service.db.session() as s:
        case = s.scalars(select(Case).where(Case.reference == args.reference)).first()
        if case is None:
            raise SystemExit(f"no case {args.reference}")
        until = close_case(
            s,
            case,
            today=date.today(),
            months=service.settings.retention_months_after_close,
            staff_id=actor_id(s, args.by),
        )
    print(f"case {args.reference} closed; its people's data will be erased after {until.isoformat()}")
    return 0
