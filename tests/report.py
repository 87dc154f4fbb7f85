"""What the real parts of a test run ran on, said in one line at the end of the run."""

from __future__ import annotations

PARTS = ("PostgreSQL", "SQLite", "Chromium", "Rasa")
_said: dict[str, str] = {}


def ran(part: str, detail: str) -> None:
    """Record what one part ran on, e.g. ran("PostgreSQL", "15.20 (throwaway cluster)")."""
    _said[part] = f"{part} {detail}".strip()


def did_not_run(part: str, reason: str) -> None:
    """Record why one part's tests did not run, e.g. did_not_run("Rasa", "not set up")."""
    _said[part] = f"{part}: {reason}"


def line(absent: dict[str, str]) -> str:
    """One line naming every part: what it ran on, else why not (absent, by part), else that it was not used."""
    return "Ran on: " + ", ".join(_said.get(p, f"{p}: {absent.get(p, 'not used in this run')}") for p in PARTS)
