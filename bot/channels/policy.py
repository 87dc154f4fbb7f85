"""When a message the person did not just ask for may go out: safe days and times, and WhatsApp's window."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.dialogue import form

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# The form's answers, as hours of the person's local day (start inclusive, end exclusive).
TIMES = {"morning": (9, 12), "afternoon": (12, 17), "evening": (17, 21)}
ANY_TIME = [(9, 21)]  # "any time" means any of the offered parts of the day, never the small hours
NO_PREFERENCE = [(9, 20)]  # nobody said: ordinary daytime hours
WHATSAPP_WINDOW = timedelta(hours=24)


def safe_hours(answers: dict[str, Any] | None) -> tuple[frozenset[int], list[tuple[int, int]]]:
    """The weekdays (0 = Monday) and hour ranges a person said are safe; daytime every day if unsaid."""
    answers = answers or {}
    days_answer = _as_list(answers.get(form.SAFE_DAYS))
    times_answer = _as_list(answers.get(form.SAFE_TIMES))
    if not days_answer or form.ANY in days_answer:
        days = frozenset(range(7))
    else:
        days = frozenset(DAYS.index(d) for d in days_answer if d in DAYS) or frozenset(range(7))
    if not times_answer:
        ranges = NO_PREFERENCE
    elif form.ANY in times_answer:
        ranges = ANY_TIME
    else:
        ranges = sorted(TIMES[t] for t in times_answer if t in TIMES) or NO_PREFERENCE
    return days, ranges


def next_safe_moment(now: datetime, answers: dict[str, Any] | None, tz_name: str) -> datetime:
    """`now` if it is a safe moment, otherwise the start of the person's next safe window (in UTC)."""
    tz = _zone(tz_name)
    days, ranges = safe_hours(answers)
    local = now.astimezone(tz)
    for offset in range(8):
        day = local.date() + timedelta(days=offset)
        if day.weekday() not in days:
            continue
        for start_h, end_h in ranges:
            start = datetime.combine(day, time(start_h), tzinfo=tz)
            end = datetime.combine(day, time(0), tzinfo=tz) + timedelta(hours=end_h)
            if start <= local < end:
                return now
            if local < start:
                return start.astimezone(now.tzinfo)
    raise AssertionError("a week always has a safe window")  # safe_hours never returns empty sets


def outside_whatsapp_window(last_inbound_at: datetime | None, now: datetime) -> bool:
    """Whether WhatsApp allows only approved templates: the person has not written in 24 hours."""
    return last_inbound_at is None or now - last_inbound_at >= WHATSAPP_WINDOW


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, Iterable):
        return [str(v) for v in value]
    return []


def _zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "Europe/London")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("Europe/London")
