"""Merge newly extracted text into every catalog, keeping each catalog's translation-review state.

`pybabel update` rewrites the header and drops fields it does not know, such as X-Translation-Review,
which records whether a native speaker has checked a catalog; this keeps it.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

REVIEW = re.compile(r'^"X-Translation-Review: ([^"\\]*)\\n"$', re.M)


def main(pybabel: str, locales: Path, languages: list[str]) -> int:
    """Update (or create) each language's catalog from locales/messages.pot."""
    template = locales / "messages.pot"
    for code in languages:
        po = locales / code / "LC_MESSAGES" / "messages.po"
        if not po.exists():
            subprocess.run(
                [pybabel, "init", "-i", str(template), "-d", str(locales), "-D", "messages", "-l", code], check=True
            )
            state = "awaiting native review" if code != "en" else "reviewed (English is the source)"
        else:
            found = REVIEW.search(po.read_text(encoding="utf-8"))
            state = found.group(1) if found else "awaiting native review"
            subprocess.run(
                [
                    pybabel,
                    "update",
                    "--no-fuzzy-matching",
                    "-i",
                    str(template),
                    "-d",
                    str(locales),
                    "-D",
                    "messages",
                    "-l",
                    code,
                ],
                check=True,
            )
        text = po.read_text(encoding="utf-8")
        if not REVIEW.search(text):
            text = re.sub(
                r'^("Generated-By: [^\n]*\n)', rf'\1"X-Translation-Review: {state}\\n"\n', text, count=1, flags=re.M
            )
            po.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], Path(sys.argv[2]), sys.argv[3:]))
