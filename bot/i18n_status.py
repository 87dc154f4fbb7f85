"""`dhrbot i18n status`: how complete each language's catalog is, whether a native speaker reviewed it, and what is broken."""

from __future__ import annotations

import argparse
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from babel import Locale
from babel.messages.pofile import read_po

from bot.i18n import BY_CODE, LANGUAGES, LOCALES_DIR

PLACEHOLDER = re.compile(r"\{\w*\}")
REVIEW_HEADER = "X-Translation-Review"
SMS_SEGMENTS_WARNING = 5
GSM7 = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà^{}\\[~]|€"
)


@dataclass
class LocaleStatus:
    """What is known about one language's catalog."""

    code: str
    total: int = 0
    translated: int = 0
    review: str = "missing header"
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def coverage(self) -> float:
        """The share of messages translated, 0 to 100."""
        return 100.0 if self.code == "en" else (100.0 * self.translated / self.total if self.total else 0.0)


def sms_segments(text: str) -> int:
    """How many SMS parts a message needs (UCS-2 for anything outside the GSM alphabet)."""
    single, multi = (160, 153) if set(text) <= GSM7 else (70, 67)
    return 1 if len(text) <= single else -(-len(text) // multi)


def cldr_plural_counts(code: str) -> set[int]:
    """How many plural forms CLDR gives whole numbers in a language (gettext only counts integers)."""
    rule = Locale.parse(BY_CODE[code].babel_code or code).plural_form
    return {len({rule(n) for n in range(0, 1001)})}


def _review_state(path: Path) -> str:
    # Babel's catalog drops headers it does not know, so read this one from the file itself.
    found = re.search(rf'^"{REVIEW_HEADER}:\s*([^\\"]*)', path.read_text(encoding="utf-8"), re.M)
    return found.group(1).strip() if found else "missing header"


def check_locale(code: str, locales_dir: Path = LOCALES_DIR) -> LocaleStatus:
    """Coverage, review state, placeholder, plural-form and length checks for one language."""
    status = LocaleStatus(code)
    path = locales_dir / code / "LC_MESSAGES" / "messages.po"
    if not path.exists():
        status.errors.append(f"no catalog at {path}")
        return status
    with path.open("rb") as f:
        catalog = read_po(f, locale=None)
    status.review = _review_state(path)
    expected = cldr_plural_counts(code)
    header = dict(catalog.mime_headers).get("Plural-Forms", "")
    found = re.search(r"nplurals\s*=\s*(\d+)", header)
    if code != "en" and (found is None or int(found.group(1)) not in expected):
        status.errors.append(f"Plural-Forms says {found.group(1) if found else '?'} forms; CLDR has {max(expected)}")
    for message in catalog:
        if not message.id:
            continue
        status.total += 1
        source = message.id if isinstance(message.id, str) else message.id[0]
        strings = [message.string] if isinstance(message.string, str) else list(message.string or [])
        if code == "en":
            continue
        if not any(strings) or message.fuzzy:
            status.errors.append(f"untranslated: {source[:60]!r}")
            continue
        status.translated += 1
        for s in strings:
            if sorted(PLACEHOLDER.findall(s)) != sorted(PLACEHOLDER.findall(source)):
                status.errors.append(f"placeholders differ: {source[:60]!r}")
            if sms_segments(s) >= SMS_SEGMENTS_WARNING:
                status.warnings.append(f"{sms_segments(s)} SMS parts: {source[:50]!r}")
    return status


def cmd_status(args: argparse.Namespace) -> int:
    """Print per-locale coverage and review state; non-zero exit on missing or broken entries."""
    statuses = [check_locale(lang.code) for lang in LANGUAGES]
    if args.json:
        print(json.dumps([{**s.__dict__, "coverage": round(s.coverage, 1)} for s in statuses], ensure_ascii=False))
    else:
        for s in statuses:
            print(
                f"{s.code:4} {s.coverage:6.1f}%  {s.translated:4}/{s.total:<4} review: {s.review:28} errors: {len(s.errors):3} warnings: {len(s.warnings)}"
            )
            for line in s.errors[: args.show]:
                print(f"       error: {line}")
    return 1 if any(s.errors for s in statuses) else 0


def add_i18n_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `dhrbot i18n status`."""
    i18n = sub.add_parser("i18n", help="translations").add_subparsers(dest="i18n_command", required=True)
    status = i18n.add_parser("status", help="coverage and review state of every catalog")
    status.add_argument("--json", action="store_true")
    status.add_argument("--show", type=int, default=5, help="errors to list per language")
    status.set_defaults(func=cmd_status)
