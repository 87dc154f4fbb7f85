"""Signing in and out of the staff app: password and a TOTP code, failures counted and audited."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import HTMLResponse

from handoff.auth import authenticate, end_sign_in, fingerprint, start_sign_in
from handoff.i18n import t
from handoff.web.common import Csrf, CurrentUser, config_of, database, redirect, render, staff_session

router = APIRouter()


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request) -> Response:
    """The login form (email, password and the six-digit code)."""
    request.state.staff_cookie = staff_session(request)
    return render(request, "login.html", {"error": None})


@router.post("/login", dependencies=[Csrf])
def login(
    request: Request, email: Annotated[str, Form()], password: Annotated[str, Form()], code: Annotated[str, Form()]
) -> Response:
    """Check password and TOTP; failures are counted and lock the account for a while."""
    config = config_of(request)
    client = request.client.host if request.client else "unknown"
    with database(request) as s:
        allowed = config.limiter.allow(s, client)
        user = authenticate(s, email, password, code) if allowed else None
        if user is not None:
            new = config.codec.new()
            new.user_id, new.fingerprint, new.key = user.id, fingerprint(user), start_sign_in(s, user)
        elif allowed:
            config.limiter.failed(s, client)
    if not allowed:
        return render(
            request,
            "login.html",
            {"error": t("Too many attempts. Wait a few minutes and try again.")},
            status_code=429,
        )
    if user is None:
        # One message for every failure, so nobody learns which emails have accounts.
        return render(
            request,
            "login.html",
            {"error": t("Those details are not right, or the account is locked for a while.")},
            status_code=401,
        )
    request.state.staff_session = request.state.staff_cookie = new
    return redirect(request, "/")


@router.post("/logout", dependencies=[Csrf])
def logout(request: Request, user: CurrentUser) -> Response:
    """End the session, on the server too."""
    with database(request) as s:
        end_sign_in(s, staff_session(request).key, user)
    request.state.staff_cookie = config_of(request).codec.new()
    return redirect(request, "/login")


@router.get("/", response_class=HTMLResponse)
def home(request: Request, user: CurrentUser) -> Response:
    """Each role's start page."""
    start = {"advocate": "/inbox/mine", "chair": "/cases", "administrator": "/admin"}
    return redirect(request, start.get(user.role, "/login"))
