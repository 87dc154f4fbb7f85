"""The chair's case page serves the overview report: who to reach and how, what they need, what changed,
and a record of every update sent to the family."""

from __future__ import annotations

import csv
import io
import re

from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy import select

from bot.storage.models import CaseUpdate, ContributionVersion, Message

from .conftest import World, logged_in

FREE_UPDATE = "The panel meets on 3 March. I would be glad to hear from you before then."


def test_the_chair_previews_a_written_update_confirms_it_and_finds_it_in_the_record(
    client: TestClient, world: World
) -> None:
    csrf = logged_in(client, world, "chair_a")
    url = f"/staff/cases/{world.ids['case_a']}"
    preview = client.post(url + "/update", data={"csrf": csrf, "text": FREE_UPDATE}).text
    assert FREE_UPDATE in preview and "Urdu" in preview
    assert "Needs translating" in preview, "an Urdu reader would get English: the chair is told"
    with world.service.db.session() as s:
        assert not s.scalars(select(Message).where(Message.author == "system")).all(), "nothing sent by a preview"
    client.post(url + "/update", data={"csrf": csrf, "text": FREE_UPDATE, "confirmed": "yes"})
    with world.service.db.session() as s:
        sent = s.scalars(select(Message).where(Message.author == "system")).one()
        assert (sent.contact_id, sent.body) == (world.ids["fam_a"], FREE_UPDATE)
        record = s.scalars(select(CaseUpdate)).one()
        assert record.text == FREE_UPDATE and record.staff_id == world.ids["chair_a"]
        assert [(r["person"], r["language"], r["translated"]) for r in record.recipients] == [("Person 1", "ur", False)]
    page = client.get(url).text
    record_html = page.split('<ul class="sent-updates">')[1].split("</ul>")[0]
    assert FREE_UPDATE in record_html and "Person 1 (Urdu, in English)" in record_html


def test_an_empty_update_is_refused_with_a_reason(client: TestClient, world: World) -> None:
    csrf = logged_in(client, world, "chair_a")
    response = client.post(f"/staff/cases/{world.ids['case_a']}/update", data={"csrf": csrf, "text": "  "})
    assert response.status_code == 400 and "Write an update" in response.text


def test_changes_read_old_to_new_and_a_withdrawn_consent_is_flagged(client: TestClient, world: World) -> None:
    with world.service.db.session() as s:
        versions = s.scalars(
            select(ContributionVersion).where(ContributionVersion.contact_id == world.ids["fam_a"])
        ).all()
        first, second = sorted(versions, key=lambda v: v.version)
        first.answers = {**first.answers, "consent_quote": "yes", "interpreter": "woman"}
        second.answers = {**second.answers, "consent_quote": "no", "interpreter": "woman", "safe_times": ["morning"]}
    logged_in(client, world, "chair_a")
    page = client.get(f"/staff/cases/{world.ids['case_a']}").text
    text = re.sub(r"<[^>]+>", "", page)
    assert "Quote your words in the report: Yes → No" in text
    assert "consent withdrawn" in page and f'id="consent-withdrawn-{world.ids["fam_a"]}"' in page
    assert "How you want to take part: Write an account → Talk with the chair" in text
    assert "How to contact them safely" in page and "Morning (9am to 12 noon)" in page
    assert "What they need to take part" in page and "Yes, a woman" in page


def test_exports_carry_needs_and_blanks_read_not_answered_under_a_sensitivity_marking(
    client: TestClient, world: World
) -> None:
    with world.service.db.session() as s:
        latest = s.scalars(
            select(ContributionVersion)
            .where(ContributionVersion.contact_id == world.ids["fam_a"])
            .order_by(ContributionVersion.version.desc())
        ).first()
        assert latest is not None
        latest.answers = {**latest.answers, "interpreter": "woman", "accessibility": "Large print please"}
    logged_in(client, world, "chair_a")
    body = client.get(f"/staff/cases/{world.ids['case_a']}/export.csv").text
    marking, rest = body.split("\n", 1)
    assert marking.startswith("OFFICIAL-SENSITIVE")
    row = next(csv.DictReader(io.StringIO(rest)))
    assert row["interpreter"] == "Yes, a woman" and row["accessibility"] == "Large print please"
    assert row["safe_days"] == "not answered" and row["relationship_detail"] == "not answered"
    pdf = client.get(f"/staff/cases/{world.ids['case_a']}/export.pdf")
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "OFFICIAL-SENSITIVE" in text and "Large print please" in text and "Yes, a woman" in text
