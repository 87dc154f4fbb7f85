"""`dhrbot user create`: staff accounts from the command line, with a one-time password and a TOTP secret."""

from __future__ import annotations

import argparse
import sys

from bot.settings import get_settings


def add_staff_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `dhrbot user ...`."""
    user = sub.add_parser("user", help="staff accounts").add_subparsers(dest="user_command", required=True)
    create = user.add_parser("create", help="create a staff account (prints a one-time password and TOTP secret)")
    create.add_argument("--email", required=True)
    create.add_argument("--name", required=True, help="name shown to colleagues (and to families, for advocates)")
    create.add_argument("--role", required=True, choices=("administrator", "chair", "advocate"))
    create.add_argument("--organisation", default=None, help="advocacy organisation (required for advocates)")
    create.set_defaults(func=cmd_user_create)


def cmd_user_create(args: argparse.Namespace) -> int:
    """Create the account and print, once, what the person needs to log in."""
    from bot.service import build_service
    from handoff.auth import StaffError, create_user, provisioning_uri

    service = build_service(get_settings())
    try:
        with service.db.session() as s:
            account = create_user(s, email=args.email, name=args.name, role=args.role, organisation=args.organisation)
            uri = provisioning_uri(account.user)
    except StaffError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"Staff account {account.user.email} ({account.user.role}) created. Shown once, pass it on safely:")
    print(f"  one-time password: {account.password}")
    print(f"  TOTP secret (type into an authenticator app): {account.totp_secret}")
    print(f"  TOTP provisioning URI (make a QR code of it): {uri}")
    return 0
