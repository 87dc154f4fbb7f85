"""The audit trail: every staff read of personal content, export, assignment and status change."""

from __future__ import annotations

from sqlalchemy.orm import Session

from bot.storage.models import AuditEntry, StaffUser


def audit(
    session: Session,
    staff: StaffUser | None,
    action: str,
    object_type: str,
    object_id: int | None = None,
    *,
    case_id: int | None = None,
    detail: str | None = None,
) -> None:
    """Write who did what to which record (never the content itself)."""
    session.add(
        AuditEntry(
            staff_id=staff.id if staff else None,
            action=action,
            object_type=object_type,
            object_id=object_id,
            case_id=case_id,
            detail=detail[:500] if detail else None,
        )
    )
