"""Administration: cases, invitations, staff accounts and the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import HTMLResponse
from sqlalchemy import select

from bot.admin import create_case, invitation_text, invite
from bot.storage.models import AuditEntry, Case, OnCallShift, StaffUser
from handoff import cases, rota
from handoff.access import NotFound
from handoff.audit import audit
from handoff.auth import create_user, provisioning_uri, set_active, unlock
from handoff.i18n import t
from handoff.web.common import STAFF_TZ, Administrator, Csrf, config_of, database, redirect, render

router = APIRouter()


@router.get("/admin", response_class=HTMLResponse)
def admin(request: Request, user: Administrator) -> Response:
    """Cases and staff."""
    with database(request) as s:
        all_cases = s.scalars(select(Case).order_by(Case.reference)).all()
        staff = s.scalars(select(StaffUser).order_by(StaffUser.role, StaffUser.display_name)).all()
        names = {u.id: u.display_name for u in staff}
        shifts = rota.upcoming(s)
    return render(
        request,
        "admin.html",
        {"user": user, "cases": all_cases, "staff": staff, "names": names, "code": None, "shifts": shifts},
    )


def _local(value: str) -> datetime:
    """A date and time typed in the staff's time zone (an HTML datetime-local field), as UTC."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise rota.RotaError(t("Give the start and end as a date and a time.")) from None
    return moment.replace(tzinfo=STAFF_TZ) if moment.tzinfo is None else moment


@router.post("/admin/rota", dependencies=[Csrf])
def admin_add_shift(
    request: Request,
    user: Administrator,
    staff_id: Annotated[int, Form()],
    starts: Annotated[str, Form()],
    ends: Annotated[str, Form()],
) -> Response:
    """Put an advocate on call out of hours: urgent tickets go to them while the shift lasts."""
    with database(request) as s:
        staff = s.get(StaffUser, staff_id)
        if staff is None:
            raise NotFound
        rota.add_shift(s, staff, _local(starts), _local(ends), user)
    return redirect(request, "/admin#rota")


@router.post("/admin/rota/{shift_id}/delete", dependencies=[Csrf])
def admin_remove_shift(request: Request, user: Administrator, shift_id: int) -> Response:
    """Take a shift off the rota."""
    with database(request) as s:
        shift = s.get(OnCallShift, shift_id)
        if shift is None:
            raise NotFound
        rota.remove_shift(s, shift, user)
    return redirect(request, "/admin#rota")


@router.post("/admin/cases", dependencies=[Csrf])
def admin_create_case(
    request: Request,
    user: Administrator,
    reference: Annotated[str, Form()],
    label: Annotated[str, Form()],
    chair: Annotated[str, Form()] = "",
    lead: Annotated[str, Form()] = "",
    deputy: Annotated[str, Form()] = "",
) -> Response:
    """A new case with the name the family chose for the person."""
    with database(request) as s:
        case = create_case(
            s,
            reference=reference.strip(),
            label=label.strip(),
            chair=chair or None,
            lead=lead or None,
            deputy=deputy or None,
        )
        audit(s, user, "create", "case", case.id, case_id=case.id)
    return redirect(request, "/admin")


@router.post("/admin/cases/{case_id}/assign", dependencies=[Csrf])
def admin_assign(
    request: Request,
    user: Administrator,
    case_id: int,
    chair: Annotated[str, Form()] = "",
    lead: Annotated[str, Form()] = "",
    deputy: Annotated[str, Form()] = "",
) -> Response:
    """Change who chairs a case and who its lead and deputy advocates are (empty: no one)."""
    with database(request) as s:
        case = s.get(Case, case_id)
        if case is None:
            raise NotFound
        cases.assign_staff(s, case, user, chair=chair, lead=lead, deputy=deputy)
    return redirect(request, "/admin")


@router.post("/admin/cases/{case_id}/invite", dependencies=[Csrf])
def admin_invite(request: Request, user: Administrator, case_id: int, note: Annotated[str, Form()] = "") -> Response:
    """A single-use code, shown once."""
    with database(request) as s:
        case = s.get(Case, case_id)
        if case is None:
            raise NotFound
        code = invite(s, reference=case.reference, note=note or None, created_by=user.id)
        audit(s, user, "invite", "case", case.id, case_id=case.id)
        text = invitation_text(code, config_of(request).service.settings.telegram_bot_username)
    return render(request, "invitation.html", {"user": user, "case": case, "text": text})


@router.post("/admin/users", dependencies=[Csrf])
def admin_create_user(
    request: Request,
    user: Administrator,
    email: Annotated[str, Form()],
    name: Annotated[str, Form()],
    role: Annotated[str, Form()],
    organisation: Annotated[str, Form()] = "",
) -> Response:
    """A new staff account; its password and two-factor secret are shown once, never stored in clear."""
    with database(request) as s:
        account = create_user(s, email=email, name=name.strip(), role=role, organisation=organisation.strip() or None)
        audit(s, user, "create", "staff_user", account.user.id, detail=account.user.role)
        details = {
            "email": account.user.email,
            "password": account.password,
            "totp_secret": account.totp_secret,
            "totp_uri": provisioning_uri(account.user),
        }
    return render(request, "new_account.html", {"user": user, "account": details})


@router.post("/admin/users/{user_id}/unlock", dependencies=[Csrf])
def admin_unlock(request: Request, user: Administrator, user_id: int) -> Response:
    """Lift a lockout after repeated failed logins."""
    with database(request) as s:
        target = s.get(StaffUser, user_id)
        if target is None:
            raise NotFound
        unlock(s, target, user)
    return redirect(request, "/admin")


@router.post("/admin/users/{user_id}/active", dependencies=[Csrf])
def admin_set_active(request: Request, user: Administrator, user_id: int, active: Annotated[str, Form()]) -> Response:
    """Switch an account off (it can no longer log in; its sessions end) or on again."""
    with database(request) as s:
        target = s.get(StaffUser, user_id)
        if target is None:
            raise NotFound
        set_active(s, target, user, active == "yes")
    return redirect(request, "/admin")


@router.get("/admin/audit", response_class=HTMLResponse)
def audit_log(request: Request, user: Administrator, page: int = 1) -> Response:
    """Who read, exported, assigned or changed what, newest first."""
    page = max(page, 1)
    with database(request) as s:
        entries = s.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).offset((page - 1) * 100).limit(100)).all()
        names = {u.id: u.display_name for u in s.scalars(select(StaffUser))}
    return render(request, "audit.html", {"user": user, "entries": entries, "names": names, "page": page})
