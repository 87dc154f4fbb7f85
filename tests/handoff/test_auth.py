"""Staff login: Argon2 + TOTP, lockout in the database, session cookies, CSRF and idle timeout."""

from __future__ import annotations

import time

import pyotp
from fastapi.testclient import TestClient
from sqlalchemy import select

from bot.storage.models import AuditEntry, LoginFailure, StaffSignIn, StaffUser
from handoff.auth import MAX_FAILED_LOGINS, SIGN_IN_LASTS, SessionCodec, authenticate, verify_password
from handoff.web import COOKIE

from .conftest import PASSWORD, World, csrf_of, logged_in, login, staff_test_app


def test_passwords_are_argon2_hashes(world: World) -> None:
    with world.service.db.session() as s:
        user = world.user(s, "adv_a")
        assert user.password_hash.startswith("$argon2id$")
        assert verify_password(user.password_hash, PASSWORD) and not verify_password(user.password_hash, "wrong")


def test_login_needs_password_and_a_current_totp_code(client: TestClient, world: World) -> None:
    assert login(client, world, "adv_a", code="000000").status_code == 401
    assert login(client, world, "adv_a", password="wrong").status_code == 401
    ok = login(client, world, "adv_a")
    assert ok.status_code == 303 and ok.headers["location"] == "/staff/"
    assert client.get("/staff/inbox/mine").status_code == 200


def test_session_cookie_is_httponly_strict_and_scoped(client: TestClient, world: World) -> None:
    response = login(client, world, "chair_a")
    cookie = response.headers["set-cookie"]
    assert f"{COOKIE}=" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/staff" in cookie
    assert "Secure" not in cookie  # plain http in tests


def test_cookie_is_secure_behind_https(world: World) -> None:
    world.service.settings.public_base_url = "https://dhr.example.org"
    with TestClient(staff_test_app(world.service), base_url="https://testserver") as c:
        assert "Secure" in c.get("/staff/login").headers["set-cookie"]


def test_repeated_failures_lock_the_account_even_with_the_right_password(client: TestClient, world: World) -> None:
    for _ in range(MAX_FAILED_LOGINS):
        assert login(client, world, "adv_b", code="123456").status_code == 401
    with world.service.db.session() as s:
        assert world.user(s, "adv_b").locked_until is not None
    assert login(client, world, "adv_b").status_code == 401, "locked: right details refused too"


def test_unknown_email_gets_the_same_answer(world: World) -> None:
    with world.service.db.session() as s:
        assert authenticate(s, "nobody@example.org", PASSWORD, "123456") is None


def test_login_attempts_are_rate_limited_per_client_across_web_processes(world: World) -> None:
    # Two web processes (two apps on one database): failures at one count at the other.
    apps = [staff_test_app(world.service), staff_test_app(world.service)]
    for app in apps:
        app.routes[-1].app.state.config.limiter.limit = 3  # type: ignore[attr-defined]
    with TestClient(apps[0]) as first, TestClient(apps[1]) as second:
        codes = [login(first, world, "adv_a", code="000000").status_code for _ in range(2)]
        codes += [login(second, world, "adv_a", code="000000").status_code for _ in range(2)]
        codes.append(login(first, world, "adv_b").status_code)  # even the right details, for another account
    assert codes == [401, 401, 401, 429, 429]
    with world.service.db.session() as s:
        stored = s.scalars(select(LoginFailure.client_index)).all()
    assert len(stored) == 3 and "testclient" not in "".join(stored), "only a keyed hash of the client is kept"


def test_forms_without_the_sessions_csrf_token_are_refused(client: TestClient, world: World) -> None:
    token = logged_in(client, world, "adv_a")
    url = f"/staff/tickets/{world.ids['ticket_a']}/take"
    assert client.post(url, data={}, follow_redirects=False).status_code == 403
    assert client.post(url, data={"csrf": "forged"}, follow_redirects=False).status_code == 403
    with world.service.db.session() as s:
        assert world.ticket(s, "ticket_a").status == "waiting", "a refused form changes nothing"
    assert client.post(url, data={"csrf": token}, follow_redirects=False).status_code == 303


def test_login_form_itself_needs_its_csrf_token(client: TestClient, world: World) -> None:
    client.get("/staff/login")
    code = pyotp.TOTP(world.secrets["adv_a"]).now()
    response = client.post(
        "/staff/login",
        data={"email": world.emails["adv_a"], "password": PASSWORD, "code": code},
        follow_redirects=False,
    )
    assert response.status_code == 403


def test_idle_sessions_end(client: TestClient, world: World) -> None:
    logged_in(client, world, "adv_a")
    codec = SessionCodec(world.service.settings.resolved_secret_key())
    raw = client.cookies.get(COOKIE)
    session = codec.load(raw)
    assert session.user_id == world.ids["adv_a"]
    session.seen = time.time() - 31 * 60
    client.cookies.clear()
    client.cookies.set(COOKIE, codec.dump(session), path="/staff")
    response = client.get("/staff/inbox/mine", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/staff/login"


def test_a_password_change_ends_existing_sessions(client: TestClient, world: World) -> None:
    logged_in(client, world, "adv_a")
    with world.service.db.session() as s:
        from handoff.auth import hash_password

        world.user(s, "adv_a").password_hash = hash_password("a new password")
    assert client.get("/staff/inbox/mine", follow_redirects=False).status_code == 303


def test_logout_ends_the_session_and_login_is_audited(client: TestClient, world: World) -> None:
    token = logged_in(client, world, "chair_a")
    assert client.post("/staff/logout", data={"csrf": token}, follow_redirects=False).status_code == 303
    assert client.get("/staff/cases", follow_redirects=False).status_code == 303
    with world.service.db.session() as s:
        assert s.query(AuditEntry).filter_by(action="login", staff_id=world.ids["chair_a"]).count() == 1
        assert s.get_one(StaffUser, world.ids["chair_a"]).failed_logins == 0


def test_after_logout_a_copy_of_the_cookie_signs_nobody_in(client: TestClient, world: World) -> None:
    # A cookie copied from a shared or stolen computer must stop working when its owner logs out.
    token = logged_in(client, world, "adv_a")
    copied = client.cookies.get(COOKIE)
    assert client.post("/staff/logout", data={"csrf": token}, follow_redirects=False).status_code == 303
    client.cookies.clear()
    client.cookies.set(COOKIE, copied, path="/staff")
    response = client.get("/staff/inbox/mine", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/staff/login"


def test_a_sign_in_ends_after_a_working_day_however_active(client: TestClient, world: World) -> None:
    logged_in(client, world, "adv_a")
    assert client.get("/staff/inbox/mine", follow_redirects=False).status_code == 200
    with world.service.db.session() as s:
        for sign_in in s.scalars(select(StaffSignIn)):
            sign_in.started_at -= SIGN_IN_LASTS
    assert client.get("/staff/inbox/mine", follow_redirects=False).status_code == 303


def test_a_cookie_without_a_sign_in_on_the_server_is_refused(client: TestClient, world: World) -> None:
    # Forged with the right signing key but no sign-in behind it (as every cookie issued before
    # sign-ins were kept on the server): refused.
    logged_in(client, world, "adv_a")
    codec = SessionCodec(world.service.settings.resolved_secret_key())
    session = codec.load(client.cookies.get(COOKIE))
    session.key = ""
    client.cookies.clear()
    client.cookies.set(COOKIE, codec.dump(session), path="/staff")
    assert client.get("/staff/inbox/mine", follow_redirects=False).status_code == 303


def test_login_page_has_a_csrf_token(client: TestClient) -> None:
    assert csrf_of(client.get("/staff/login").text)


def test_live_refreshes_do_not_keep_an_idle_session_alive(client: TestClient, world: World) -> None:
    logged_in(client, world, "adv_a")
    before = client.cookies.get(COOKIE)
    client.get("/staff/inbox/mine?fragment=1")
    client.get("/staff/events")
    assert client.cookies.get(COOKIE) == before
    client.get("/staff/inbox/mine")
    assert client.cookies.get(COOKIE) != before, "a page the person opened is activity"


def test_a_totp_code_works_once(world: World) -> None:
    code = pyotp.TOTP(world.secrets["adv_a"]).now()
    with world.service.db.session() as s:
        assert authenticate(s, world.emails["adv_a"], PASSWORD, code) is not None
    with world.service.db.session() as s:
        assert authenticate(s, world.emails["adv_a"], PASSWORD, code) is None, "a replayed code is refused"
