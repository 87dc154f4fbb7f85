"""What families give the review in the chat reaches the chair only through the consent rule, item by item."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy import select

from bot.admin import invite
from bot.dialogue import form
from bot.storage.models import Attachment, AuditEntry, Contact
from tests.dialogue.test_contributions import choose, offered, sends_file
from tests.people import Person

from .conftest import World, logged_in

ACCOUNT_WORDS = "Markeraccount she rang the police twice that week"
PORTRAIT_WORDS = "Markerportrait she loved her allotment"
PHOTO = b"\xff\xd8\xff\xe0" + b"Markerphoto" * 20


def _joins_case_a(world: World, address: str) -> Person:
    """A family member who joins case A with an invitation code and skips every question of the form."""
    with world.service.db.session() as s:
        code = invite(s, reference="A-2026-1", note="for the sister")
    person = Person(world.service.engine, address=address)
    person.says(f"JOIN {code}")
    choose(person, "en")
    choose(person, "yes")
    choose(person, "no")
    choose(person, "form")
    choose(person, "sibling")
    ways = [o.value for o in form.BY_KEY[form.WAYS].options]
    person.says(f"{ways.index(form.WAY_WRITTEN) + 1} {ways.index(form.WAY_PORTRAIT) + 1}")
    while "save" not in offered(person):
        choose(person, form.SKIPPED)  # so they never say yes to sharing their answers with the chair
    choose(person, "save")
    choose(person, "now")
    return person


def _gives(person: Person, kind: str, words: str, *consents: str) -> None:
    choose(person, kind)
    person.says(words)
    choose(person, "done")
    choose(person, "save")
    for answer in consents:
        choose(person, answer)


def _text(response: Any) -> str:
    if response.headers.get("content-type", "").startswith("application/pdf"):
        pages = PdfReader(io.BytesIO(response.content)).pages
        return re.sub(r"\s+", " ", "\n".join(page.extract_text() or "" for page in pages))
    return response.text


def _chair_reads(client: TestClient, world: World, case: str = "case_a") -> dict[str, str]:
    base = f"/staff/cases/{world.ids[case]}"
    return {path: _text(client.get(base + path)) for path in ("", "/export.csv", "/export.pdf")}


def test_each_piece_reaches_the_chair_only_with_its_own_consent_and_a_withdrawal_takes_it_back(
    client: TestClient, world: World
) -> None:
    person = _joins_case_a(world, "+447700900777")
    _gives(person, "account", ACCOUNT_WORDS, "yes", "no", "yes")  # chair reads; no quote; the panel may
    _gives(person, "portrait", PORTRAIT_WORDS, "no")  # kept from everyone
    choose(person, "file")
    sends_file(person, "image/jpeg", PHOTO)
    choose(person, "done")
    choose(person, "save")
    for answer in ("yes", "yes", "no"):
        choose(person, answer)

    logged_in(client, world, "chair_a")
    seen = _chair_reads(client, world)
    for path, text in seen.items():
        assert ACCOUNT_WORDS in text, f"the account the chair may read is missing at {path or 'the case page'}"
        assert PORTRAIT_WORDS not in text, f"the portrait kept from the chair leaked at {path or 'the case page'}"
    assert "has not agreed to share their answers" in seen[""], "the form's answers stay private"
    assert "not to be quoted" in seen[""] and "may be shared with the panel" in seen[""]
    rows = list(csv.DictReader(io.StringIO(seen["/export.csv"].split("\n", 1)[1])))
    given = next(r for r in rows if ACCOUNT_WORDS in r["given"])
    assert given["questions"] == "not shared" and given["attachments"] == "1"
    with world.service.db.session() as s:
        contact = s.scalars(
            select(Contact).where(Contact.case_id == world.ids["case_a"]).order_by(Contact.id.desc())
        ).first()
        assert contact is not None
        photo = s.scalars(select(Attachment).where(Attachment.contact_id == contact.id)).one()
    download = client.get(f"/staff/cases/{world.ids['case_a']}/attachments/{photo.id}")
    assert download.status_code == 200 and download.content == PHOTO
    with world.service.db.session() as s:
        assert s.scalars(select(AuditEntry).where(AuditEntry.object_type == "attachment")).all(), "the read is audited"

    choose(person, "account")
    choose(person, "withdraw")
    choose(person, "yes")
    choose(person, "files")
    choose(person, f"file-{photo.id}")
    choose(person, "withdraw")
    choose(person, "yes")
    seen = _chair_reads(client, world)
    for path, text in seen.items():
        assert ACCOUNT_WORDS not in text, f"a withdrawn account is still shown at {path or 'the case page'}"
    assert client.get(f"/staff/cases/{world.ids['case_a']}/attachments/{photo.id}").status_code == 404


def test_another_reviews_chair_never_sees_what_was_given(client: TestClient, world: World) -> None:
    person = _joins_case_a(world, "+447700900778")
    _gives(person, "account", ACCOUNT_WORDS, "yes", "yes", "yes")
    logged_in(client, world, "chair_b")
    for text in _chair_reads(client, world, "case_b").values():
        assert ACCOUNT_WORDS not in text
    assert client.get(f"/staff/cases/{world.ids['case_a']}").status_code in (403, 404)


def test_a_file_still_being_given_is_not_shown_even_to_a_chair_the_form_lets_read(
    client: TestClient, world: World
) -> None:
    # Family member A shares their form answers with the chair; a file they are still sending is not given yet.
    person = Person(world.service.engine, address="+447700900001")
    with world.service.db.session() as s:
        contact = s.get_one(Contact, world.ids["fam_a"])
        contact.state, contact.state_data = "collect", {"collect_kind": "file"}
    sends_file(person, "image/jpeg", PHOTO)
    with world.service.db.session() as s:
        drafted = s.scalars(select(Attachment).where(Attachment.content_type == "image/jpeg")).one()
    logged_in(client, world, "chair_a")
    assert client.get(f"/staff/cases/{world.ids['case_a']}/attachments/{drafted.id}").status_code == 404
    assert client.get(f"/staff/cases/{world.ids['case_a']}/attachments/{world.ids['att_a']}").status_code == 200


def test_someone_who_does_not_take_part_and_wants_no_updates_gets_no_chairs_update(
    client: TestClient, world: World
) -> None:
    from bot.storage.models import CaseUpdate, Message

    with world.service.db.session() as s:
        code = invite(s, reference="A-2026-1")
    person = Person(world.service.engine, address="+447700900780")
    person.says(f"JOIN {code}")
    for value in ("en", "yes", "no", "form", "friend"):
        choose(person, value)
    ways = [o.value for o in form.BY_KEY[form.WAYS].options]
    person.says(str(ways.index(form.WAY_NO_PART) + 1))
    choose(person, "no")  # no updates, thank you
    csrf = logged_in(client, world, "chair_a")
    update = "The panel meets in March."
    client.post(f"/staff/cases/{world.ids['case_a']}/update", data={"csrf": csrf, "text": update, "confirmed": "yes"})
    with world.service.db.session() as s:
        to = {m.contact_id for m in s.scalars(select(Message).where(Message.author == "system"))}
        declined = s.scalars(
            select(Contact).where(Contact.case_id == world.ids["case_a"]).order_by(Contact.id.desc())
        ).first()
        assert declined is not None
        assert to == {world.ids["fam_a"]} and declined.id not in to
        assert [r["person"] for r in s.scalars(select(CaseUpdate)).one().recipients] == ["Person 1"]
