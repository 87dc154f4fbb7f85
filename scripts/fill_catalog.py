"""Fill a language's catalog with drafted translations, without breaking the .po format or its review state.

    python scripts/fill_catalog.py missing locales/cy/LC_MESSAGES/messages.po > todo.json
    (write each "msgstr" in todo.json; a plural entry has a list, one string per plural form)
    python scripts/fill_catalog.py fill locales/cy/LC_MESSAGES/messages.po todo.json

Only entries whose msgstr is empty (or fuzzy) are filled, unless --overwrite is given. Placeholders such
as {name} must be kept exactly; `dhrbot i18n status` checks them afterwards.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import cast

from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po, write_po

REVIEW = re.compile(r'^"X-Translation-Review: ([^"\\]*)\\n"$', re.M)
PLACEHOLDER = re.compile(r"\{\w*\}")


def _read(po: Path) -> Catalog:
    with po.open("rb") as f:
        return read_po(f)


def _untranslated(message: Message) -> bool:
    strings = [message.string] if isinstance(message.string, str) else list(message.string or [])
    return message.fuzzy or not all(strings)


def missing(po: Path) -> list[dict[str, object]]:
    """The entries still to translate, as a list ready to fill in."""
    catalog = _read(po)
    out: list[dict[str, object]] = []
    for m in catalog:
        if not m.id or not _untranslated(m):
            continue
        plural = not isinstance(m.id, str)
        out.append(
            {
                "context": m.context,
                "msgid": m.id if not plural else list(m.id),
                "comments": list(m.auto_comments),
                "msgstr": [""] * catalog.num_plurals if plural else "",
            }
        )
    return out


def fill(po: Path, entries: list[dict[str, object]], *, overwrite: bool = False) -> int:
    """Write the given translations into the catalog; returns how many entries changed."""
    text = po.read_text(encoding="utf-8")
    found = REVIEW.search(text)
    review = found.group(1) if found else "awaiting native review"
    catalog = _read(po)
    changed = 0
    for entry in entries:
        key = entry["msgid"] if isinstance(entry["msgid"], str) else tuple(entry["msgid"])  # type: ignore[arg-type]
        message = catalog.get(key if isinstance(key, str) else key[0], context=entry.get("context"))  # type: ignore[arg-type]
        if message is None:
            print(f"not in the catalog (re-extracted since?): {key!r}", file=sys.stderr)
            continue
        wanted = entry["msgstr"]
        if not wanted or (isinstance(wanted, list) and not all(wanted)):
            continue
        if not overwrite and not _untranslated(message):
            continue
        source = message.id if isinstance(message.id, str) else message.id[0]
        for s in [wanted] if isinstance(wanted, str) else list(cast(list[str], wanted)):
            if sorted(PLACEHOLDER.findall(str(s))) != sorted(PLACEHOLDER.findall(source)):
                raise SystemExit(f"placeholders differ for {source!r}: {s!r}")
        message.string = wanted if isinstance(wanted, str) else tuple(wanted)  # type: ignore[arg-type]
        message.flags.discard("fuzzy")
        changed += 1
    with po.open("wb") as f:
        write_po(f, catalog, width=76)
    # Babel drops header fields it does not know; put the review state back where pybabel update keeps it.
    text = po.read_text(encoding="utf-8")
    if not REVIEW.search(text):
        text = re.sub(
            r'^("Generated-By: [^\n]*\n)', rf'\1"X-Translation-Review: {review}\\n"\n', text, count=1, flags=re.M
        )
        po.write_text(text, encoding="utf-8")
    return changed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    m = sub.add_parser("missing", help="print the untranslated entries as JSON")
    m.add_argument("po", type=Path)
    f = sub.add_parser("fill", help="write translations from a JSON file made by `missing`")
    f.add_argument("po", type=Path)
    f.add_argument("translations", type=Path)
    f.add_argument("--overwrite", action="store_true", help="also replace existing translations")
    args = parser.parse_args()
    if args.command == "missing":
        json.dump(missing(args.po), sys.stdout, ensure_ascii=False, indent=1)
        print()
        return 0
    entries = json.loads(args.translations.read_text(encoding="utf-8"))
    print(f"{fill(args.po, entries, overwrite=args.overwrite)} entries filled", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
