"""Data protection complete: a key can be retired, retention ends, a subject access copy holds everything."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from cryptography.fernet import Fernet
from pydantic import ValidationError
from sqlalchemy import func, select

from bot import timers
from bot.admin import create_case, invite
from bot.privacy import add_months, close_case, purge, subject_access
from bot.settings import Settings
from bot.storage.crypto import configure_cipher
from bot.storage.models import Attachment, AuditEntry, Case, Contact, Ticket, utcnow
from bot.storage.rotation import left_on_older_keys, rotate_keys
from handoff.auth import create_user
from handoff.tickets import add_note, take
from tests.people import Person

PHONE = "+447700900451"


@pytest.fixture
def keys(settings: Settings) -> Iterator[list[str]]:
    """The keys the test's service started with; the process-wide cipher is put back afterwards."""
    original = settings.resolved_data_keys()
    yield original
    configure_cipher(original)


def _linked_person(service, address: str = PHONE) -> Person:
    with service.db.session() as s:
        if s.scalars(select(Case)).first() is None:
            create_case(s, reference="R-13", label="Amina")
        code = invite(s, reference="R-13")
    person = Person(service.engine, address=address)
    person.gets_through_first_contact()
    person.says(f"JOIN {code}")
    person.says("My sister Amina was kind to everyone")
    return person


def _only_contact_id(service) -> int:
    with service.db.session() as s:
        return s.scalars(select(Contact.id)).one()


# ---------------------------------------------------------------------- key rotation
def test_after_rotating_and_retiring_the_old_key_a_known_person_is_still_recognised_and_exported(service, keys):
    person = _linked_person(service)
    contact_id = _only_contact_id(service)
    old_key, new_key = keys[0], Fernet.generate_key().decode()

    # Step 1 of the procedure: the new key goes in front; the service keeps running meanwhile.
    configure_cipher([new_key, old_key])
    person.says("menu")
    with service.db.session() as s:
        assert s.scalar(select(func.count(Contact.id))) == 1, "known during the rotation, by the older index"
    # Step 2: the rotation, interrupted after two batches and run again to the end.
    first = rotate_keys(service.db, batch=2, max_batches=2)
    assert not first.finished
    assert left_on_older_keys(service.db) > 0
    rotate_keys(service.db, batch=2)
    assert left_on_older_keys(service.db) == 0

    # Step 3: the old key is retired.
    configure_cipher([new_key])
    person.says("menu")
    with service.db.session() as s:
        assert s.scalar(select(func.count(Contact.id))) == 1, "the same person, not a stranger"
        assert s.scalars(select(Contact.case_id)).one() is not None
    assert "Hello. If you are in danger now" not in person.heard, "no first-contact greeting for a known person"
    with service.db.session() as s:
        copy = subject_access(s, contact_id, staff_id=None)
    assert copy["addresses"] == [{"channel": "sms", "address": PHONE}]
    assert "My sister Amina was kind to everyone" in [m["text"] for m in copy["messages"]]


def test_a_second_run_of_a_finished_rotation_changes_nothing(service, keys):
    _linked_person(service)
    configure_cipher([Fernet.generate_key().decode(), keys[0]])
    assert rotate_keys(service.db).total > 0
    again = rotate_keys(service.db)
    assert again.finished and again.total == 0 and again.reindexed == 0


def test_rotate_key_from_the_command_line_says_when_the_old_key_can_go(service, settings, keys):
    _linked_person(service)
    new_key = Fernet.generate_key().decode()
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "VAR_DIR": str(settings.var_dir),
        "DATA_KEY": f"{new_key},{keys[0]}",
    }
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "data", "rotate-key", "--batch", "3"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "older keys can be removed" in done.stdout
    configure_cipher([new_key])
    assert left_on_older_keys(service.db) == 0


# ---------------------------------------------------------------------- retention
def test_closing_a_case_sets_its_retention_and_the_purge_erases_it_after(service):
    _linked_person(service)
    closed = date(2027, 1, 31)
    with service.db.session() as s:
        case = s.scalars(select(Case)).one()
        until = close_case(s, case, today=closed, months=12, staff_id=None)
    assert until == date(2028, 1, 31)
    assert add_months(date(2027, 3, 31), 11) == date(2028, 2, 29), "a shorter month ends on its last day"
    with service.db.session() as s:
        assert s.scalars(select(Case)).one().retention_until == until
        assert purge(s, until, unlinked_after_days=90) == 0, "kept until the day itself"
    with service.db.session() as s:
        assert purge(s, until + timedelta(days=1), unlinked_after_days=90) == 1
        assert s.scalar(select(func.count(Contact.id))) == 0


def test_closing_a_case_from_the_command_line_is_done_in_a_name_and_sets_its_retention(service, settings):
    _linked_person(service)
    with service.db.session() as s:
        create_user(s, email="admin@example.org", name="Ada Min", role="administrator", password="z" * 12)
    env = {**os.environ, "DATABASE_URL": settings.database_url, "VAR_DIR": str(settings.var_dir)}
    command = [sys.executable, "-m", "bot.cli", "case", "close", "--reference", "R-13", "--by", "admin@example.org"]
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    with service.db.session() as s:
        case = s.scalars(select(Case)).one()
        assert case.closed_on == date.today()
        assert case.retention_until == add_months(date.today(), 12), "12 months by default"
        assert s.scalars(select(AuditEntry.action).where(AuditEntry.object_type == "case")).all() == ["close_case"]
    assert f"erased after {case.retention_until.isoformat()}" in done.stdout


def test_people_never_linked_to_a_case_are_erased_after_a_silence(service):
    unlinked = Person(service.engine, address="+447700900452")
    unlinked.gets_through_first_contact()
    _linked_person(service, "+447700900453")
    today = utcnow().date()
    with service.db.session() as s:
        assert purge(s, today + timedelta(days=89), unlinked_after_days=90) == 0
    with service.db.session() as s:
        assert purge(s, today + timedelta(days=91), unlinked_after_days=90) == 1
    with service.db.session() as s:
        assert s.scalars(select(Contact.case_id)).all() != [None], "the linked person stays"
        assert s.scalar(select(func.count(Contact.id))) == 1


def test_an_unlinked_person_an_advocate_is_still_helping_is_kept(service):
    person = Person(service.engine, address="+447700900454")
    person.gets_through_first_contact()
    person.says("I want to delete my data please")
    with service.db.session() as s:
        assert s.scalars(select(Ticket)).first() is not None
        assert purge(s, utcnow().date() + timedelta(days=400), unlinked_after_days=90) == 0


def test_the_daily_timers_purge_unlinked_people(service):
    person = Person(service.engine, address="+447700900455")
    person.gets_through_first_contact()
    timers.tick(service, today=utcnow().date() + timedelta(days=service.settings.unlinked_contact_retention_days + 1))
    with service.db.session() as s:
        assert s.scalar(select(func.count(Contact.id))) == 0


# ---------------------------------------------------------------------- subject access
def _person_with_everything(service) -> tuple[int, int]:
    """A linked person with a ticket an advocate noted on, safe times, a voice note; returns (contact, staff)."""
    person = _linked_person(service)
    person.says("I want to delete my data please")
    with service.db.session() as s:
        advocate = create_user(
            s, email="jo@example.org", name="Jo Advocate", role="advocate", organisation="AAFDA", password="x" * 12
        ).user
        create_user(s, email="dpo@example.org", name="Dee Pio", role="administrator", password="y" * 12)
        ticket = s.scalars(select(Ticket)).one()
        take(s, ticket, advocate)
        add_note(s, ticket, advocate, "Sister seemed very low; call back Thursday")
        contact = s.get(Contact, ticket.contact_id)
        assert contact is not None
        contact.draft = {"safe_days": ["thu"], "safe_times": ["evening"]}
        s.add(
            Attachment(contact_id=contact.id, content_type="audio/ogg", data=base64.b64encode(b"OggS-voice").decode())
        )
        account = b"What I want the review to know about Amina"
        s.add(Attachment(contact_id=contact.id, content_type="text/plain", data=base64.b64encode(account).decode()))
        return contact.id, advocate.id


def test_the_subject_access_copy_holds_tickets_notes_state_safe_times_and_attachments(service):
    contact_id, _ = _person_with_everything(service)
    with service.db.session() as s:
        copy = subject_access(s, contact_id, staff_id=None)
    ticket = copy["tickets"][0]
    assert ticket["status"] == "active" and ticket["held_by"] == "Jo Advocate"
    notes = [e for e in ticket["events"] if "advocate_note" in e]
    assert notes[0]["advocate_note"] == "Sister seemed very low; call back Thursday"
    assert "advocate's note" in notes[0]["marked"]
    assert notes[0]["by"] == "Jo Advocate"
    assert copy["conversation_state"]["state"]
    assert copy["safe_times"] == {"days": ["thu"], "times": ["evening"], "timezone": "Europe/London"}
    assert base64.b64decode(copy["attachments"][0]["content_base64"]) == b"OggS-voice"


def test_a_web_chat_session_key_is_not_handed_out_in_the_copy(service):
    session_key = "k7Zq0v0b5mS3-web-session-key"
    Person(service.engine, address=session_key, channel="web").says("hello")
    with service.db.session() as s:
        copy = subject_access(s, _only_contact_id(service), staff_id=None)
    assert copy["addresses"][0]["channel"] == "web"
    assert session_key not in json.dumps(copy), "whoever reads the copy could carry on the conversation"


def test_the_export_command_writes_json_and_a_readable_pdf(service, settings, tmp_path):
    from pypdf import PdfReader

    contact_id, _ = _person_with_everything(service)
    pdf_path = tmp_path / "copy.pdf"
    env = {**os.environ, "DATABASE_URL": settings.database_url, "VAR_DIR": str(settings.var_dir)}
    command = [sys.executable, "-m", "bot.cli", "data", "export", "--contact", str(contact_id)]
    done = subprocess.run(
        [*command, "--by", "dpo@example.org", "--pdf", str(pdf_path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    copy = json.loads(done.stdout)
    assert copy["tickets"][0]["events"]
    text = "\n".join(page.extract_text() for page in PdfReader(pdf_path).pages)
    assert "My sister Amina was kind to everyone" in text
    assert "Sister seemed very low" in text
    assert "Advocate's note about you" in text
    assert "What I want the review to know about Amina" in text, "a written account reads as itself"
    with service.db.session() as s:
        assert s.scalars(select(AuditEntry.action).where(AuditEntry.object_type == "contact")).all() == [
            "subject_access"
        ]


# ---------------------------------------------------------------------- plaintext and settings
def test_a_join_code_is_not_kept_in_clear_while_first_contact_is_unfinished(service):
    with service.db.session() as s:
        create_case(s, reference="R-14", label="Amina")
        code = invite(s, reference="R-14")
    person = Person(service.engine, address="+447700900456")
    person.says(f"JOIN {code}")
    with service.db.session() as s:
        state_data = s.scalars(select(Contact.state_data)).one()
    assert code not in json.dumps(state_data)
    assert code.replace("-", "") not in json.dumps(state_data)
    person.picks("English")
    person.picks("Yes")
    person.picks("No")
    assert "linked to the review" in person.heard, "the code still links them once first contact is done"


def _production(public_base_url: str | None = None) -> Settings:
    key, secret = Fernet.generate_key().decode(), "s" * 40
    if public_base_url is None:  # not set at all
        return Settings(environment="production", secret_key=secret, data_key=key)
    return Settings(environment="production", secret_key=secret, data_key=key, public_base_url=public_base_url)


def test_production_refuses_to_start_without_an_https_public_base_url():
    with pytest.raises(ValidationError, match="PUBLIC_BASE_URL"):
        _production()
    with pytest.raises(ValidationError, match="PUBLIC_BASE_URL"):
        _production(public_base_url="http://dhr.example.org")
    assert _production(public_base_url="https://dhr.example.org").public_base_url == "https://dhr.example.org"


def test_a_providers_error_is_kept_without_the_number_it_quotes(service):
    from bot.storage.scrub import scrub_personal

    error = f"HTTP 400 error 21211: The 'To' number {PHONE} is not a valid phone number; contact jo@example.org"
    kept = scrub_personal(error)
    assert PHONE not in kept and "jo@example.org" not in kept
    assert "21211" in kept and "not a valid phone number" in kept
    assert "7700 900451" not in scrub_personal("number 07700 900451 refused at 12 Acacia Road, LS1 4AB")
    assert "Acacia" not in scrub_personal("number 07700 900451 refused at 12 Acacia Road, LS1 4AB")
