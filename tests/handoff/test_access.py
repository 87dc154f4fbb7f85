"""Every staff route, walked with every role and with another tenant's ids: nobody reaches another's data.

The table below must list every route of the staff app: adding a route without deciding who may use it
fails `test_every_route_is_in_the_table`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from handoff.web import staff_app

from .conftest import World, logged_in

ROLES = ("anonymous", "admin", "chair_a", "chair_b", "adv_a", "adv_b")
OK, ANON = "ok", "login"


@dataclass(frozen=True)
class Route:
    """How to call a route, and what each role must get: "ok" (allowed), "login" (redirect), or a status."""

    method: str
    path: str
    expect: dict[str, Any]
    data: Callable[[World], dict[str, Any]] = field(default=lambda w: {})
    query: str = ""


def everyone_ok() -> dict[str, Any]:
    return dict.fromkeys(ROLES, OK)


def signed_in_ok() -> dict[str, Any]:
    return {**everyone_ok(), "anonymous": ANON}


# Advocates of case A's organisation may act on ticket A; Org B's advocate gets 404 (as if it did not
# exist); chairs and administrators get 403 (their role never reads conversations).
TICKET = {"anonymous": ANON, "admin": 403, "chair_a": 403, "chair_b": 403, "adv_a": OK, "adv_b": 404}
INBOX = {"anonymous": ANON, "admin": 403, "chair_a": 403, "chair_b": 403, "adv_a": OK, "adv_b": OK}
# Chair A may see case A; chair B gets 404; advocates and administrators get 403.
CASE = {"anonymous": ANON, "admin": 403, "chair_a": OK, "chair_b": 404, "adv_a": 403, "adv_b": 403}
CASES = {**CASE, "chair_b": OK}
ADMIN = {"anonymous": ANON, "admin": OK, "chair_a": 403, "chair_b": 403, "adv_a": 403, "adv_b": 403}

ROUTES: list[Route] = [
    Route("GET", "/login", everyone_ok()),
    Route(
        "POST",
        "/login",
        dict.fromkeys(ROLES, 401),
        data=lambda w: {"email": "x@example.org", "password": "x", "code": "000000"},
    ),
    Route("POST", "/logout", signed_in_ok()),
    Route("GET", "/", signed_in_ok()),
    Route("GET", "/inbox/{folder}", INBOX),
    Route("GET", "/tickets/{ticket_id}", TICKET),
    Route("POST", "/tickets/{ticket_id}/take", TICKET),
    Route("POST", "/tickets/{ticket_id}/reply", TICKET, data=lambda w: {"text": "hello"}),
    Route("POST", "/tickets/{ticket_id}/note", TICKET, data=lambda w: {"text": "a note"}),
    Route("POST", "/tickets/{ticket_id}/hand-back", TICKET, data=lambda w: {"confirmed": "yes"}),
    Route("POST", "/tickets/{ticket_id}/close", TICKET, data=lambda w: {"confirmed": "yes"}),
    Route(
        "POST",
        "/tickets/{ticket_id}/transfer",
        TICKET,
        data=lambda w: {"target_id": w.ids["adv_a2"], "confirmed": "yes"},
    ),
    Route("POST", "/tickets/{ticket_id}/link", TICKET, data=lambda w: {"case_id": w.ids["case_a"]}),
    Route("GET", "/events", {**TICKET, "anonymous": 401}, query="?ticket={ticket_id}"),  # EventSource: no redirect
    Route("GET", "/cases", CASES),
    Route("GET", "/cases/{case_id}", CASE),
    Route("GET", "/cases/{case_id}/export.csv", CASE),
    Route("GET", "/cases/{case_id}/export.pdf", CASE),
    Route("GET", "/cases/{case_id}/attachments/{attachment_id}", CASE),
    Route("POST", "/cases/{case_id}/stage", CASE, data=lambda w: {"stage": 2}),
    Route("POST", "/cases/{case_id}/update", CASE, data=lambda w: {"update": "still_working"}),
    Route("GET", "/admin", ADMIN),
    Route("POST", "/admin/cases", ADMIN, data=lambda w: {"reference": "NEW-1", "label": "Rose"}),
    Route(
        "POST",
        "/admin/cases/{case_id}/assign",
        ADMIN,
        data=lambda w: {"chair": "chair_a@example.org", "lead": "adv_a@example.org"},
    ),
    Route("POST", "/admin/cases/{case_id}/invite", ADMIN, data=lambda w: {"note": "for the sister"}),
    Route(
        "POST",
        "/admin/users",
        ADMIN,
        data=lambda w: {"email": "new@example.org", "name": "New", "role": "advocate", "organisation": "Org A"},
    ),
    Route("POST", "/admin/rota/{shift_id}/delete", ADMIN),
    Route("POST", "/admin/users/{user_id}/unlock", ADMIN),
    Route("POST", "/admin/users/{user_id}/active", ADMIN, data=lambda w: {"active": "yes"}),
    Route("GET", "/admin/audit", ADMIN),
    Route(
        "POST",
        "/admin/rota",
        ADMIN,
        data=lambda w: {"staff_id": w.ids["adv_a2"], "starts": "2030-01-05T18:00", "ends": "2030-01-06T09:00"},
    ),
]
NOT_ROUTES = {"/static"}  # public files (CSS, JS): no data behind them


def _url(route: Route, w: World) -> str:
    ids = {
        "ticket_id": w.ids["ticket_a"],
        "case_id": w.ids["case_a"],
        "attachment_id": w.ids["att_a"],
        "folder": "mine",
        "user_id": w.ids["adv_a2"],
        "shift_id": w.ids["shift"],
    }
    return "/staff" + (route.path + route.query).format(**ids)


def test_every_route_is_in_the_table() -> None:
    from unittest.mock import MagicMock

    service = MagicMock()
    service.settings.resolved_secret_key.return_value = "k"
    service.settings.public_base_url = "http://x"
    app = staff_app(service)
    found = {(m, r.path) for r in app.routes if isinstance(r, APIRoute) for m in r.methods or ()}
    mounts = {getattr(r, "path", "") for r in app.routes if not isinstance(r, APIRoute)}
    listed = {(r.method, r.path) for r in ROUTES}
    assert found == listed, f"routes without an access rule: {found - listed}; stale entries: {listed - found}"
    assert mounts <= NOT_ROUTES


def _call(client: TestClient, route: Route, world: World, csrf: str | None) -> int:
    url = _url(route, world)
    if route.method == "GET":
        return client.get(url, follow_redirects=False).status_code
    return client.post(url, data={**route.data(world), "csrf": csrf or ""}, follow_redirects=False).status_code


def _session(client: TestClient, world: World, role: str) -> str | None:
    client.cookies.clear()
    if role == "anonymous":
        page = client.get("/staff/login")
        from .conftest import csrf_of

        return csrf_of(page.text)
    return logged_in(client, world, role)


@pytest.mark.parametrize("role", ROLES)
def test_each_role_reaches_only_what_it_may(client: TestClient, world: World, role: str) -> None:
    failures = []
    # Refusals first: nothing a refused request does may change what the allowed calls then see.
    ordered = sorted(ROUTES, key=lambda r: r.expect[role] == OK)
    csrf = _session(client, world, role)
    for route in ordered:
        if route.path in ("/logout",):
            continue  # ends the session: checked on its own below
        expected = route.expect[role]
        status = _call(client, route, world, csrf)
        if expected == OK:
            ok = status < 400 or status == 409  # 409: allowed, but the ticket is not in a state for it
        elif expected == ANON:
            ok = status == 303
        else:
            ok = status == expected
        if not ok:
            failures.append(f"{route.method} {route.path}: {role} got {status}, expected {expected}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("role", [r for r in ROLES if r != "anonymous"])
def test_logout_works_for_every_role(client: TestClient, world: World, role: str) -> None:
    csrf = _session(client, world, role)
    assert client.post("/staff/logout", data={"csrf": csrf}, follow_redirects=False).status_code == 303
    assert client.get("/staff/", follow_redirects=False).headers["location"] == "/staff/login"


def test_other_tenants_ids_find_nothing_in_either_direction(client: TestClient, world: World) -> None:
    logged_in(client, world, "adv_a")
    assert client.get(f"/staff/tickets/{world.ids['ticket_b']}").status_code == 404
    assert client.get(f"/staff/tickets/{world.ids['ticket_a']}").status_code == 200
    client.cookies.clear()
    logged_in(client, world, "chair_a")
    assert client.get(f"/staff/cases/{world.ids['case_b']}").status_code == 404
    # An attachment of case B requested through chair A's own case.
    assert client.get(f"/staff/cases/{world.ids['case_a']}/attachments/{world.ids['att_b']}").status_code == 404


def test_attachments_only_with_consent(client: TestClient, world: World) -> None:
    logged_in(client, world, "chair_b")
    # Case B's family member did not agree to share with the chair.
    assert client.get(f"/staff/cases/{world.ids['case_b']}/attachments/{world.ids['att_b']}").status_code == 404


@pytest.mark.parametrize("route", [r for r in ROUTES if r.method == "POST"], ids=lambda r: r.path)
def test_every_form_is_refused_without_the_csrf_token(client: TestClient, world: World, route: Route) -> None:
    allowed = next((role for role in ROLES if route.expect[role] == OK and role != "anonymous"), "anonymous")
    _session(client, world, allowed)
    response = client.post(_url(route, world), data=route.data(world), follow_redirects=False)
    assert response.status_code == 403
