"""The `dhrbot` command: serve, chat in the terminal, run workers, migrate, and administer cases."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable
from datetime import timedelta

from bot.settings import get_settings

log = logging.getLogger(__name__)


def main(argv: list[str] | None = None) -> int:
    """Run one `dhrbot` sub-command."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    parser = argparse.ArgumentParser(
        prog="dhrbot", description="Family contribution service for Domestic Homicide Reviews"
    )
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the whole service in one process")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--demo", action="store_true", help="seed a demo case and staff accounts")
    serve.add_argument(
        "--workers", type=int, default=None, help="web processes (default WEB_WORKERS, 1); use 2+ on PostgreSQL"
    )
    serve.set_defaults(func=cmd_serve)

    chat = sub.add_parser("chat", help="talk to the bot in the terminal")
    chat.add_argument("--lang", default=None, help="language code to start in, e.g. ur")
    chat.add_argument("--as", dest="address", default="terminal", help="who you are (keeps your place between runs)")
    chat.set_defaults(func=cmd_chat)

    worker = sub.add_parser("worker", help="run the outbound dispatcher and timers alone")
    worker.set_defaults(func=cmd_worker)

    db = sub.add_parser("db", help="database").add_subparsers(dest="db_command", required=True)
    db.add_parser("upgrade", help="apply migrations").set_defaults(func=cmd_db_upgrade)

    case = sub.add_parser("case", help="cases and invitations").add_subparsers(dest="case_command", required=True)
    create = case.add_parser("create", help="create a case")
    create.add_argument("--reference", required=True)
    create.add_argument("--label", required=True, help="the name the family chose for the person who died")
    create.add_argument("--chair", help="chair's email")
    create.add_argument("--lead", help="lead advocate's email")
    create.add_argument("--deputy", help="deputy advocate's email")
    create.set_defaults(func=cmd_case_create)
    invite = case.add_parser("invite", help="issue a single-use invitation code")
    invite.add_argument("--reference", required=True)
    invite.add_argument("--days", type=int, default=60, help="days until the code expires")
    invite.add_argument("--note", default=None, help="staff-only note, e.g. 'for the sister'")
    invite.set_defaults(func=cmd_case_invite)
    from bot.privacy import add_case_close_command

    add_case_close_command(case)

    for register in _plugin_registrars():
        register(sub)

    args = parser.parse_args(argv)
    result: int = args.func(args)
    return result


def _plugin_registrars() -> list[Callable[[argparse._SubParsersAction[argparse.ArgumentParser]], None]]:
    """Sub-commands owned by other parts of the code (NLU, translations, privacy, staff, channels)."""
    from bot.channels.cli import add_channel_commands
    from bot.i18n_status import add_i18n_commands
    from bot.nlu.cli import add_nlu_commands
    from bot.privacy import add_data_commands
    from handoff.cli import add_staff_commands

    return [add_nlu_commands, add_i18n_commands, add_data_commands, add_staff_commands, add_channel_commands]


def cmd_serve(args: argparse.Namespace) -> int:
    """The web app, webhooks and background work; with --workers, web requests in several processes."""
    import uvicorn

    from bot.service import build_service
    from bot.web.app import create_app

    settings = get_settings()
    service = build_service(settings)
    if args.demo:
        from bot.demo import seed_demo

        print(seed_demo(service))
    print(
        f"dhrbot is running. Family web chat: http://{args.host}:{args.port}/chat  Staff: http://{args.host}:{args.port}/staff"
    )
    workers = args.workers or settings.web_workers
    if workers > 1:
        from bot.web.workers import serve_service

        if not service.db.is_postgres:
            log.warning("several web processes on SQLite take turns at the database: use PostgreSQL")
        # This process supervises the web processes and the outbox process, all forked from it.
        serve_service(service, args.host, args.port, workers)
        return 0

    from bot.channels.worker import start_dispatcher_thread
    from bot.timers import start_timers_thread

    # The outbox is sent from this process too, unless SERVE_DISPATCHERS=0 leaves it to `dhrbot worker`.
    dispatcher, stop = start_dispatcher_thread(service, settings.serve_dispatchers)
    start_timers_thread(service, stop)
    try:
        from bot.web.workers import uvicorn_options

        app = create_app(service)
        uvicorn.run(app, host=args.host, port=args.port, **uvicorn_options(settings))
    finally:
        stop.set()
        dispatcher.join(timeout=10)
    return 0


def cmd_chat(args: argparse.Namespace) -> int:
    """A conversation in the terminal, driving the same engine as every channel."""
    from bot.dialogue.messages import Inbound
    from bot.service import build_service

    service = build_service(get_settings())
    from bot.i18n import BY_CODE, resolve_language

    print("(Type your messages. Ctrl-D to leave. Your place is kept if you come back.)")

    def send(text: str) -> None:
        for reply in service.engine.handle(Inbound(channel="cli", address=args.address, text=text)):
            print("\nbot> " + reply.as_plain_text().replace("\n", "\n     "))

    if service.engine.language_of("cli", args.address) is None:
        send("hello")
    else:
        # Never send a made-up message to someone part-way through: it could be taken as an answer.
        print("(Welcome back: carry on where you left off, or send MENU.)")
    chosen = resolve_language(args.lang)
    if args.lang and chosen is None:
        print(f"unknown language {args.lang!r}; choose from the menu", file=sys.stderr)
    elif chosen is not None:
        send(BY_CODE[chosen].native_name)  # as if the person had picked it from the language menu
    for line in sys.stdin:
        if line.strip():
            send(line.rstrip("\n"))
        print("\nyou> ", end="", flush=True)
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    """The dispatcher and timers, alone, for several processes against PostgreSQL."""
    from bot.service import build_service

    service = build_service(get_settings())
    try:
        from bot.channels.worker import run_worker  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        print("no outbound channels are configured in this build", file=sys.stderr)
        return 1
    run_worker(service)
    return 0


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    """Apply every migration."""
    from bot.storage.db import init_storage

    init_storage(get_settings()).upgrade()
    print("database is up to date")
    return 0


def cmd_case_create(args: argparse.Namespace) -> int:
    """Create a case with its chair and advocates."""
    from bot.admin import create_case
    from bot.service import build_service

    service = build_service(get_settings())
    with service.db.session() as s:
        case = create_case(
            s, reference=args.reference, label=args.label, chair=args.chair, lead=args.lead, deputy=args.deputy
        )
        print(f"case {case.reference} created")
    return 0


def cmd_case_invite(args: argparse.Namespace) -> int:
    """Issue an invitation code and print how to use it on each channel."""
    from bot.admin import invitation_text, invite
    from bot.service import build_service

    service = build_service(get_settings())
    with service.db.session() as s:
        code = invite(s, reference=args.reference, valid_for=timedelta(days=args.days), note=args.note)
    print(invitation_text(code, service.settings.telegram_bot_username))
    return 0


if __name__ == "__main__":
    sys.exit(main())
