"""The handoff base fixture: one user per role, two organisations and two cases, so every test can show
that nothing leaks between tenants. Built on the shared `service` fixture (SQLite and PostgreSQL)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pyotp
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from bot.service import Service
from bot.storage.models import (
    Address,
    Attachment,
    Case,
    Contact,
    ContributionVersion,
    OnCallShift,
    StaffUser,
    Ticket,
)
from handoff.auth import create_user
from handoff.queue import open_ticket
from handoff.web import staff_app

PASSWORD = "correct horse battery staple"
FAMILY_WORDS_A = "My sister was frightened of him for years"
QUESTIONS_A = "Why did nobody act on the police call in March?"
QUESTIONS_B = "What did the GP know?"


@dataclass
class World:
    """Ids of everything the base fixture made, and the TOTP secrets of each staff member."""

    service: Service
    ids: dict[str, int] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)
    emails: dict[str, str] = field(default_factory=dict)

    def user(self, session: Any, key: str) -> StaffUser:
        found = session.get(StaffUser, self.ids[key])
        assert found is not None
        return found

    def ticket(self, session: Any, key: str) -> Ticket:
        found = session.get(Ticket, self.ids[key])
        assert found is not None
        return found


# key: (role, organisation, display name)
STAFF = {
    "admin": ("administrator", None, "Ada Admin"),
    "chair_a": ("chair", None, "Chris Chair-A"),
    "chair_b": ("chair", None, "Cleo Chair-B"),
    "adv_a": ("advocate", "Org A", "Asha Lead-A"),
    "adv_a2": ("advocate", "Org A", "Amir Deputy-A"),
    "adv_b": ("advocate", "Org B", "Bea Lead-B"),
}


def _family(s: Any, case: Case, phone: str, answers: dict[str, Any], language: str = "en") -> Contact:
    contact = Contact(case_id=case.id, language=language, state="menu", state_data={})
    s.add(contact)
    s.flush()
    s.add(Address(contact_id=contact.id, channel="sms", address=phone, address_index=f"idx-{phone}"))
    s.add(
        ContributionVersion(
            contact_id=contact.id, case_id=case.id, version=1, answers={**answers, "ways": ["written"]}, channel="sms"
        )
    )
    s.add(ContributionVersion(contact_id=contact.id, case_id=case.id, version=2, answers=answers, channel="sms"))
    s.add(Attachment(contact_id=contact.id, content_type="audio/ogg", data="dm9pY2Ugbm90ZQ=="))
    return contact


@pytest.fixture(autouse=True)
def fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 with its cheapest parameters in tests (production keeps the library's defaults)."""
    from argon2 import PasswordHasher

    import handoff.auth

    monkeypatch.setattr(handoff.auth, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


@pytest.fixture
def world(service: Service) -> World:
    """Org A (case A: chair A, lead adv_a, deputy adv_a2) and Org B (case B: chair B, lead adv_b), each
    with one family member who has an open ticket; A shares with the chair, B does not."""
    w = World(service)
    with service.db.session() as s:
        for key, (role, org, name) in STAFF.items():
            account = create_user(
                s, email=f"{key}@example.org", name=name, role=role, organisation=org, password=PASSWORD
            )
            w.ids[key] = account.user.id
            w.secrets[key] = account.totp_secret
            w.emails[key] = account.user.email
        from bot.admin import create_case

        case_a = create_case(
            s,
            reference="A-2026-1",
            label="Amina",
            chair="chair_a@example.org",
            lead="adv_a@example.org",
            deputy="adv_a2@example.org",
        )
        case_b = create_case(
            s, reference="B-2026-1", label="Beatrice", chair="chair_b@example.org", lead="adv_b@example.org"
        )
        fam_a = _family(
            s, case_a, "+447700900001",
            {"relationship": "sibling", "ways": ["talk_chair", "voice"], "questions": QUESTIONS_A, "consent_share_chair": "yes", "consent_quote": "no"},
            language="ur",
        )  # fmt: skip
        fam_b = _family(
            s,
            case_b,
            "+447700900002",
            {"relationship": "friend", "ways": ["written"], "questions": QUESTIONS_B, "consent_share_chair": "no"},
        )
        s.flush()
        from bot.storage.models import Message

        s.add(
            Message(
                contact_id=fam_a.id,
                direction="in",
                channel="sms",
                body=FAMILY_WORDS_A,
                author="family",
                status="received",
            )
        )
        ticket_a = open_ticket(s, fam_a, reason="request_advocate", urgent=False)
        ticket_b = open_ticket(s, fam_b, reason="self_harm_risk", urgent=True)
        w.ids.update(
            case_a=case_a.id,
            case_b=case_b.id,
            fam_a=fam_a.id,
            fam_b=fam_b.id,
            ticket_a=ticket_a.id,
            ticket_b=ticket_b.id,
        )
        s.flush()
        w.ids["att_a"] = s.query(Attachment).filter_by(contact_id=fam_a.id).one().id
        w.ids["att_b"] = s.query(Attachment).filter_by(contact_id=fam_b.id).one().id
        # A shift on the out-of-hours rota, years ahead so that it never changes routing here.
        shift = OnCallShift(
            staff_id=w.ids["adv_a2"],
            organisation_id=w.user(s, "adv_a2").organisation_id,
            starts_at=datetime(2035, 1, 6, 18, tzinfo=UTC),
            ends_at=datetime(2035, 1, 7, 9, tzinfo=UTC),
        )
        s.add(shift)
        s.flush()
        w.ids["shift"] = shift.id
    return w


def staff_test_app(service: Service, **config: Any) -> FastAPI:
    """The staff app mounted as create_app mounts it; timings can be shortened for tests."""
    app = FastAPI()
    staff = staff_app(service)
    for key, value in config.items():
        setattr(staff.state.config, key, value)
    app.mount("/staff", staff)
    return app


@pytest.fixture
def client(world: World) -> Iterator[TestClient]:
    """A browser-like client of the staff app (SSE streams end at once)."""
    with TestClient(staff_test_app(world.service, stream_seconds=0, poll_seconds=0.01)) as c:
        yield c


def csrf_of(html: str) -> str:
    """The CSRF token in a page's forms."""
    m = re.search(r'name="csrf" value="([^"]+)"', html)
    assert m, "no CSRF token on the page"
    return m.group(1)


def login(client: TestClient, world: World, key: str, code: str | None = None, password: str = PASSWORD) -> Any:
    """Log in through the form, with the current TOTP code."""
    page = client.get("/staff/login")
    code = code if code is not None else pyotp.TOTP(world.secrets[key]).now()
    return client.post(
        "/staff/login",
        data={"email": world.emails[key], "password": password, "code": code, "csrf": csrf_of(page.text)},
        follow_redirects=False,
    )


def logged_in(client: TestClient, world: World, key: str) -> str:
    """Log in and return the session's CSRF token."""
    response = login(client, world, key)
    assert response.status_code == 303, response.text
    client.cookies.jar.clear_expired_cookies()
    page = client.get("/staff/", follow_redirects=True)
    return csrf_of(page.text)
