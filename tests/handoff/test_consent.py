"""Consent holds everywhere the chair looks: every chair page and export, walked route by route.

Each free-text answer carries its own marker; without a yes to sharing with the chair no marker may appear
anywhere the chair can reach, and with it every marker does.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from pypdf import PdfReader

from bot.storage.models import Address, Attachment, Case, Contact, ContributionVersion, Invitation, utcnow
from handoff.consent import Item, Use, permitted
from handoff.exports import csv_safe
from handoff.web import staff_app

from .conftest import World, logged_in

# One marker per free-text answer (and one for an attachment's contents), so a leak names its field.
MARKERS = {
    "relationship_detail": "Markerdetail cousin by marriage",
    "questions": "Markerquestions why was the call closed",
    "meeting_language": "Markerlanguage Sylheti",
    "dialect": "Markerdialect Mirpuri",
    "accessibility": "Markeraccess wheelchair ramp",
    "contact_email": "markercontact@example.org",
}
ATTACHMENT_BYTES = b"Markerattachment voice note"


def _register(world: World, share: str) -> int:
    """A family member on case A who answered every free-text question, sharing with the chair or not."""
    answers: dict[str, Any] = {
        "relationship": "other",
        "ways": ["written", "pen_portrait"],
        "interpreter": "woman",
        "contact_channel": "email",
        **MARKERS,
        "consent_share_chair": share,
        "consent_quote": "yes",
    }
    with world.service.db.session() as s:
        contact = Contact(case_id=world.ids["case_a"], language="pl", state="menu", state_data={})
        s.add(contact)
        s.flush()
        s.add(Address(contact_id=contact.id, channel="telegram", address="55501", address_index="idx-55501"))
        s.add(
            ContributionVersion(
                contact_id=contact.id, case_id=world.ids["case_a"], version=1, answers=answers, channel="telegram"
            )
        )
        import base64

        s.add(
            Attachment(
                contact_id=contact.id, content_type="text/plain", data=base64.b64encode(ATTACHMENT_BYTES).decode()
            )
        )
        s.add(
            Invitation(
                case_id=world.ids["case_a"],
                code_hash="h" * 64,
                note='=HYPERLINK("http://evil.example","sister")',
                expires_at=utcnow() + timedelta(days=1),
                used_at=utcnow(),
                used_by_contact_id=contact.id,
            )
        )
        s.flush()
        return contact.id


def _text(response: Any) -> str:
    """What the chair reads in a response: the text of a PDF, or the body of anything else."""
    if response.headers.get("content-type", "").startswith("application/pdf"):
        return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(response.content)).pages)
    return response.content.decode("utf-8", errors="replace")


def _chair_walk(client: TestClient, world: World) -> dict[str, str]:
    """Every GET route of the staff app, filled in with case A's ids, as chair A reads it."""
    with world.service.db.session() as s:
        attachment_ids = [a.id for a in s.query(Attachment).all()]
        ticket_ids = [world.ids["ticket_a"], world.ids["ticket_b"]]
        case_ids = [c.id for c in s.query(Case).all()]
    seen: dict[str, str] = {}
    for route in staff_app(world.service).routes:
        if (
            not isinstance(route, APIRoute)
            or "GET" not in (route.methods or set())
            or route.path in ("/logout", "/events")
        ):
            continue
        paths = [route.path]
        for name, values in (
            ("{case_id}", case_ids),
            ("{attachment_id}", attachment_ids),
            ("{ticket_id}", ticket_ids),
            ("{folder}", ["mine", "all", "waiting", "unassigned", "closed"]),
        ):
            paths = [p.replace(name, str(v)) for p in paths for v in (values if name in p else [None])]
        for path in paths:
            response = client.get("/staff" + path, follow_redirects=True)
            seen[path] = _text(response) if response.status_code == 200 else ""
    assert any(path.endswith("export.pdf") and text for path, text in seen.items()), "the walk reached the PDF"
    return seen


@pytest.mark.parametrize("share", ["no", "yes"])
def test_no_free_text_answer_reaches_the_chair_without_consent(client: TestClient, world: World, share: str) -> None:
    _register(world, share)
    logged_in(client, world, "chair_a")
    seen = _chair_walk(client, world)
    everything = "\n".join(seen.values())
    for field, marker in MARKERS.items():
        if share == "no":
            leaks = [path for path, text in seen.items() if marker in text]
            assert not leaks, f"{field} shown without consent at {leaks}"
        else:
            assert marker in everything, f"{field} missing although they agreed to share it"
    if share == "no":
        assert not any(ATTACHMENT_BYTES.decode() in text for text in seen.values())
        assert "Someone else close to them" not in everything, "not even the options they picked"
        assert "has not agreed to share their answers" in everything
    else:
        assert ATTACHMENT_BYTES.decode() in everything
        pdf = next(text for path, text in seen.items() if path.endswith(f"/{world.ids['case_a']}/export.pdf"))
        for marker in MARKERS.values():
            assert marker in re.sub(r"\s+", " ", pdf), "the PDF carries what they agreed to share"


def test_every_exported_cell_that_could_run_as_a_formula_is_neutralised(client: TestClient, world: World) -> None:
    contact_id = _register(world, "yes")
    with world.service.db.session() as s:
        version = s.query(ContributionVersion).filter_by(contact_id=contact_id).one()
        version.answers = {**version.answers, "relationship_detail": "=cmd|' /C calc'!A0", "dialect": "+1+1"}
    logged_in(client, world, "chair_a")
    body = client.get(f"/staff/cases/{world.ids['case_a']}/export.csv").text
    rows = list(csv.reader(io.StringIO(body)))
    cells = [cell for row in rows for cell in row]
    assert "'=cmd|' /C calc'!A0" in cells
    assert '\'=HYPERLINK("http://evil.example","sister")' in cells, "staff notes too"
    assert not [cell for cell in cells if cell[:1] in ("=", "+", "-", "@", "\t", "\r")]


@pytest.mark.parametrize("value", ["=1+1", "+44 7700", "-2", "@SUM(A1)", "\tx", "\rx"])
def test_csv_safe_quotes_formula_starts(value: str) -> None:
    assert csv_safe(value) == "'" + value
    assert csv_safe("Mother " + value) == "Mother " + value


def test_each_use_needs_its_own_yes_and_reading_comes_first() -> None:
    shared_no_quote = {"consent_share_chair": "yes", "consent_quote": "no"}
    quote_without_reading = {"consent_share_chair": "no", "consent_quote": "yes"}
    account = Item("contribution", "written")
    assert permitted(account, Use.CHAIR_READS, shared_no_quote)
    assert not permitted(account, Use.QUOTED_IN_REPORT, shared_no_quote)
    assert not permitted(account, Use.QUOTED_IN_REPORT, quote_without_reading), "cannot quote what cannot be read"
    assert not permitted(account, Use.SHARED_WITH_PANEL, shared_no_quote), "never asked, so no"
    own = Item("contribution", "written", {Use.CHAIR_READS: True, Use.QUOTED_IN_REPORT: True})
    assert permitted(own, Use.QUOTED_IN_REPORT, {}), "an item's own consent is the more specific one"
    withdrawn = Item("contribution", "written", {Use.CHAIR_READS: False})
    assert not permitted(withdrawn, Use.CHAIR_READS, shared_no_quote), "a withdrawal for one item holds"
    assert permitted(Item("answer", "consent_share_chair"), Use.CHAIR_READS, {}), "consent choices always show"
