"""Who works when: each advocate's working hours, and the out-of-hours on-call rota for urgent tickets."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from bot.storage.models import OnCallShift, StaffUser, Ticket, utcnow
from handoff.audit import audit
from handoff.i18n import t

DEFAULT_TIMEZONE = "Europe/London"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEFAULT_WORKING_HOURS: dict[str, Any] = {"timezone": DEFAULT_TIMEZONE, **{d: ["09:00", "17:00"] for d in WEEKDAYS[:5]}}
LONGEST_SHIFT = timedelta(days=7)


class RotaError(ValueError):
    """A shift that cannot be added, with the reason in plain words."""


@dataclass(frozen=True)
class WorkingHours:
    """When a person's advocates work: per weekday a start and end time, in one time zone."""

    timezone: str
    days: dict[int, tuple[time, time]]

    @classmethod
    def parse(cls, data: dict[str, Any] | None) -> WorkingHours:
        """From StaffUser.working_hours, e.g. {"timezone": "Europe/London", "mon": ["09:00", "17:00"], ...}."""
        data = data or DEFAULT_WORKING_HOURS
        days = {}
        for i, key in enumerate(WEEKDAYS):
            span = data.get(key)
            if span:
                days[i] = (time.fromisoformat(span[0]), time.fromisoformat(span[1]))
        return cls(str(data.get("timezone") or DEFAULT_TIMEZONE), days)

    def is_open(self, moment: datetime) -> bool:
        """Whether someone is working at this moment."""
        local = moment.astimezone(ZoneInfo(self.timezone))
        span = self.days.get(local.weekday())
        return span is not None and span[0] <= local.time().replace(tzinfo=None) < span[1]

    def next_opening(self, moment: datetime) -> datetime | None:
        """The next time work starts after this moment (None if nobody ever works)."""
        tz = ZoneInfo(self.timezone)
        local = moment.astimezone(tz)
        for offset in range(8):
            day = local.date() + timedelta(days=offset)
            span = self.days.get(day.weekday())
            if span is None:
                continue
            start = datetime.combine(day, span[0], tzinfo=tz)
            if start > moment:
                return start
        return None


def working_now(session: Session, staff_id: int | None, now: datetime) -> bool:
    """Whether this advocate is within their working hours, or on call, at this moment."""
    if staff_id is None:
        return False
    staff = session.get(StaffUser, staff_id)
    if staff is None or not staff.active:
        return False
    return WorkingHours.parse(staff.working_hours).is_open(now) or staff_id in on_call(
        session, staff.organisation_id, now
    )


def on_call(session: Session, organisation_id: int | None, now: datetime | None = None) -> list[int]:
    """The advocates on call right now for an organisation (and the general rota, for people on no case)."""
    now = now or utcnow()
    which: ColumnElement[bool] = OnCallShift.organisation_id.is_(None)
    if organisation_id is not None:
        which = or_(OnCallShift.organisation_id == organisation_id, OnCallShift.organisation_id.is_(None))
    found = session.scalars(
        select(OnCallShift.staff_id)
        .join(StaffUser, StaffUser.id == OnCallShift.staff_id)
        .where(which, OnCallShift.starts_at <= now, OnCallShift.ends_at > now, StaffUser.active.is_(True))
        # The organisation's own rota before the general one.
        .order_by(OnCallShift.organisation_id.is_(None), OnCallShift.starts_at)
    )
    ids: list[int] = []
    for staff_id in found:
        if staff_id not in ids:
            ids.append(staff_id)
    return ids


def shift_ending(session: Session, staff_id: int, now: datetime | None = None) -> datetime | None:
    """When this advocate's current on-call shift ends (None if they are not on call)."""
    now = now or utcnow()
    return session.scalar(
        select(OnCallShift.ends_at).where(
            OnCallShift.staff_id == staff_id, OnCallShift.starts_at <= now, OnCallShift.ends_at > now
        )
    )


def add_shift(session: Session, staff: StaffUser, starts_at: datetime, ends_at: datetime, by: StaffUser) -> OnCallShift:
    """Put an advocate on call for their organisation between two moments; audited."""
    if staff.role != "advocate" or not staff.active:
        raise RotaError(t("Only an active advocate can be on call."))
    if ends_at <= starts_at:
        raise RotaError(t("A shift must end after it starts."))
    if ends_at - starts_at > LONGEST_SHIFT:
        raise RotaError(t("A shift can last at most 7 days."))
    shift = OnCallShift(
        staff_id=staff.id,
        organisation_id=staff.organisation_id,
        starts_at=starts_at,
        ends_at=ends_at,
        created_by_id=by.id,
    )
    session.add(shift)
    session.flush()
    audit(session, by, "create", "on_call_shift", shift.id, detail=f"staff {staff.id} {starts_at:%Y-%m-%d %H:%M}")
    return shift


def remove_shift(session: Session, shift: OnCallShift, by: StaffUser) -> None:
    """Take a shift off the rota; audited."""
    audit(session, by, "delete", "on_call_shift", shift.id, detail=f"staff {shift.staff_id}")
    session.delete(shift)


def upcoming(session: Session, now: datetime | None = None) -> list[OnCallShift]:
    """Shifts still to come or under way, soonest first."""
    now = now or utcnow()
    return list(session.scalars(select(OnCallShift).where(OnCallShift.ends_at > now).order_by(OnCallShift.starts_at)))


def hours_for(session: Session, ticket: Ticket) -> WorkingHours:
    """The working hours of whoever the ticket is routed to, else the default (Mon-Fri 9-17, London)."""
    staff = session.get(StaffUser, ticket.routed_to_id) if ticket.routed_to_id else None
    return WorkingHours.parse(staff.working_hours if staff else None)
