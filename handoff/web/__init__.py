"""The staff web app under /staff: sign-in with TOTP, the advocate inbox, the chair's view and administration.

One router per area (`signin`, `inbox`, `cases`, `admin`) over what they share (`common`): access checks are
dependencies (`Advocate`, `Chair`, `Administrator`, `Csrf`), data comes through the filters in handoff.access,
and every change is a named, audited operation in handoff (tickets, cases, auth): views never edit rows.
"""

from __future__ import annotations

from fastapi import FastAPI, Request, Response
from fastapi.responses import PlainTextResponse
from fastapi.staticfiles import StaticFiles

from bot.admin import AdminError
from bot.service import Service
from handoff import rota, tickets
from handoff.access import Forbidden, NotFound
from handoff.auth import RateLimiter, SessionCodec, StaffError
from handoff.i18n import t
from handoff.web import admin, cases, inbox, signin
from handoff.web.common import (
    COOKIE,
    HERE,
    Config,
    CsrfFailed,
    LoginRequired,
    SessionCookieMiddleware,
    redirect,
    render,
)

__all__ = ["COOKIE", "staff_app"]


def staff_app(service: Service) -> FastAPI:
    """The staff web app; mount it at /staff."""
    settings = service.settings
    config = Config(
        service=service,
        codec=SessionCodec(settings.resolved_secret_key()),
        limiter=RateLimiter(),
        secure_cookies=settings.public_base_url.startswith("https://"),
    )
    app = FastAPI(title="dhrbot staff", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.config = config
    app.add_middleware(SessionCookieMiddleware, config=config)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="staff-static")

    @app.exception_handler(LoginRequired)
    async def _login_required(request: Request, exc: LoginRequired) -> Response:
        if request.url.path.endswith("/events"):
            return PlainTextResponse("login required", status_code=401)
        return redirect(request, "/login")

    @app.exception_handler(Forbidden)
    async def _forbidden(request: Request, exc: Forbidden) -> Response:
        return render(request, "error.html", {"message": t("Your role cannot use this page.")}, status_code=403)

    @app.exception_handler(CsrfFailed)
    async def _csrf_failed(request: Request, exc: CsrfFailed) -> Response:
        return render(
            request,
            "error.html",
            {"message": t("This form has expired. Go back, reload the page and try again.")},
            status_code=403,
        )

    @app.exception_handler(NotFound)
    async def _not_found(request: Request, exc: NotFound) -> Response:
        return render(request, "error.html", {"message": t("Not found.")}, status_code=404)

    @app.exception_handler(tickets.TicketError)
    async def _ticket_error(request: Request, exc: tickets.TicketError) -> Response:
        return render(request, "error.html", {"message": str(exc)}, status_code=409)

    @app.exception_handler(AdminError)
    @app.exception_handler(StaffError)
    @app.exception_handler(rota.RotaError)
    async def _admin_error(request: Request, exc: ValueError) -> Response:
        return render(request, "error.html", {"message": str(exc)}, status_code=400)

    for part in (signin, inbox, cases, admin):
        # The routes themselves, not a lazily included router, so the app's route table lists every one.
        app.router.routes.extend(part.router.routes)
    return app
