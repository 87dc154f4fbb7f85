"""A demo case with invitation codes, so the service can be tried at once."""

from __future__ import annotations

from sqlalchemy import select

from bot.admin import create_case, invite
from bot.service import Service
from bot.storage.models import Case

DEMO_REFERENCE = "DEMO-2026-01"


def seed_demo(service: Service) -> str:
    """Create (once) the demo case and fresh invitation codes; returns what to print."""
    from handoff.demo import seed_staff

    lines = ["Demo data:"]
    with service.db.session() as s:
        staff = seed_staff(s)
        if s.scalars(select(Case).where(Case.reference == DEMO_REFERENCE)).first() is None:
            create_case(
                s,
                reference=DEMO_REFERENCE,
                label="Amina",
                chair=staff.get("chair"),
                lead=staff.get("lead"),
                deputy=staff.get("deputy"),
            )
        codes = [invite(s, reference=DEMO_REFERENCE, note="demo") for _ in range(3)]
    lines.append(f"  case {DEMO_REFERENCE}; invitation codes (single use): {', '.join(codes)}")
    lines.append('  in the web chat, send "JOIN <code>" or type the code when asked')
    for role, text in staff.get("logins", {}).items():
        lines.append(f"  {role}: {text}")
    return "\n".join(lines)
