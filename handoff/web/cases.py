"""The chair's pages: their cases, each case's registrants and queue state, exports, stage and updates."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import HTMLResponse
from sqlalchemy import select

from bot.storage.models import Case, StaffUser
from handoff import canned
from handoff import cases as case_operations
from handoff.access import NotFound, case_filter, visible_case
from handoff.audit import audit
from handoff.chair import queue_state, registrants
from handoff.exports import case_csv, case_pdf
from handoff.web.common import Chair, Csrf, database, redirect, render

# Each export: how it is made and what the browser is told it is.
EXPORTS: dict[str, tuple[Callable[..., Any], str]] = {
    "csv": (case_csv, "text/csv; charset=utf-8"),
    "pdf": (case_pdf, "application/pdf"),
}
router = APIRouter()


@router.get("/cases", response_class=HTMLResponse)
def cases(request: Request, user: Chair) -> Response:
    """The chair's own cases."""
    with database(request) as s:
        found = s.scalars(select(Case).where(case_filter(user)).order_by(Case.reference)).all()
        rows = [(c, queue_state(s, c)) for c in found]
    return render(request, "cases.html", {"user": user, "rows": rows})


@router.get("/cases/{case_id}", response_class=HTMLResponse)
def case_page(request: Request, user: Chair, case_id: int) -> Response:
    """Who registered, how each wants to take part, what they agreed to share, and the queue's state."""
    with database(request) as s:
        case = visible_case(s, user, case_id)
        people = registrants(s, case)
        queue = queue_state(s, case)
        sent = case_operations.updates_sent(s, case)
        names = {u.id: u.display_name for u in s.scalars(select(StaffUser).where(StaffUser.role == "chair"))}
        audit(s, user, "read", "case", case.id, case_id=case.id, detail="chair's view")
    return render(
        request,
        "case.html",
        {
            "user": user,
            "case": case,
            "people": people,
            "queue": queue,
            "updates": canned.UPDATES,
            "sent": sent,
            "names": names,
        },
    )


def export(request: Request, user: StaffUser, case_id: int, kind: str) -> Response:
    """A case export honouring each person's consent; every export is audited."""
    make, media_type = EXPORTS[kind]
    with database(request) as s:
        case = visible_case(s, user, case_id)
        body = make(s, case)
        audit(s, user, "export", "case", case.id, case_id=case.id, detail=kind)
    return Response(
        body,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{case.reference}.{kind}"'},
    )


@router.get("/cases/{case_id}/export.csv")
def export_csv(request: Request, user: Chair, case_id: int) -> Response:
    """The case as CSV for the overview report."""
    return export(request, user, case_id, "csv")


@router.get("/cases/{case_id}/export.pdf")
def export_pdf(request: Request, user: Chair, case_id: int) -> Response:
    """A PDF summary for the overview report."""
    return export(request, user, case_id, "pdf")


@router.get("/cases/{case_id}/attachments/{attachment_id}")
def attachment(request: Request, user: Chair, case_id: int, attachment_id: int) -> Response:
    """A voice note or document, only where its sender agreed to share with the chair; audited."""
    with database(request) as s:
        case = visible_case(s, user, case_id)
        shared = {a.id: a for p in registrants(s, case) for a in p.attachments}
        found = shared.get(attachment_id)
        if found is None:
            raise NotFound
        audit(s, user, "read", "attachment", found.id, case_id=case.id)
        data, content_type = base64.b64decode(found.data), found.content_type
    return Response(
        data,
        media_type=content_type,
        headers={"Content-Disposition": f'attachment; filename="attachment-{attachment_id}"'},
    )


@router.post("/cases/{case_id}/stage", dependencies=[Csrf])
def set_stage(request: Request, user: Chair, case_id: int, stage: Annotated[int, Form()]) -> Response:
    """Move the case to one of the five stages."""
    with database(request) as s:
        case_operations.set_stage(s, visible_case(s, user, case_id), user, stage)
    return redirect(request, f"/cases/{case_id}")


@router.post("/cases/{case_id}/update", dependencies=[Csrf])
def send_update(
    request: Request,
    user: Chair,
    case_id: int,
    update: Annotated[str, Form()] = "",
    text: Annotated[str, Form()] = "",
    confirmed: Annotated[str, Form()] = "",
) -> Response:
    """Preview an update as each family member will get it; send it (and keep a record) once confirmed."""
    with database(request) as s:
        case = visible_case(s, user, case_id)
        if confirmed != "yes":
            lines = case_operations.preview_update(s, case, update, text)
            return render(
                request,
                "update_preview.html",
                {"user": user, "case": case, "lines": lines, "update": update, "text": text},
            )
        case_operations.send_update(s, case, user, update, text)
    return redirect(request, f"/cases/{case_id}#updates")
