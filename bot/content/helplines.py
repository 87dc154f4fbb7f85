"""Emergency numbers and helplines, read from per-deployment configuration, shown in the person's language."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.i18n import _, isolate


@dataclass(frozen=True)
class Helpline:
    """A service a family member can call or write to."""

    name: str
    number: str
    description: str  # English source text; translated when shown
    topics: tuple[str, ...] = ()

    def render(self) -> str:
        """One line: name, number, and what it is for, in the person's language."""
        return f"{isolate(self.name)}: {isolate(self.number)}. {_(self.description)}"


@dataclass(frozen=True)
class Helplines:
    """The configured emergency line and helplines."""

    emergency: Helpline
    lines: tuple[Helpline, ...]

    @classmethod
    def load(cls, path: Path) -> Helplines:
        """Read the configuration file; fail clearly if the emergency number is missing."""
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        emergency = data.get("emergency") or {}
        if not emergency.get("number"):
            raise ValueError(f"{path}: an emergency number is required")
        return cls(
            emergency=Helpline("Emergency", str(emergency["number"]), emergency["description"]),
            lines=tuple(
                Helpline(h["name"], str(h["number"]), h["description"], tuple(h.get("topics", ())))
                for h in data.get("helplines", [])
            ),
        )

    def for_topic(self, topic: str) -> list[Helpline]:
        """The helplines tagged with a topic (e.g. self_harm, safety)."""
        return [h for h in self.lines if topic in h.topics]


def extract_helplines(
    fileobj: Any, keywords: Any, comment_tags: Any, options: Any
) -> Iterator[tuple[int, str, str, list[str]]]:
    """Babel extractor: the family-facing descriptions in a helplines file."""
    data = yaml.safe_load(fileobj.read().decode("utf-8"))
    entries = [data.get("emergency", {}), *data.get("helplines", [])]
    for entry in entries:
        if entry.get("description"):
            yield 0, "_", entry["description"], ["Helpline description: " + str(entry.get("name", "emergency"))]
