"""Emergency numbers and helplines, read from per-deployment configuration, shown in the person's language.

Each helpline names the reasons it fits (distress, self_harm, danger, honour) and the nations it
serves (England, Wales); a person is offered only what fits why they wrote, where they live.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.i18n import _, isolate
from bot.nlu.normalise import normalise

NATIONS = ("england", "wales")
REASONS = ("distress", "self_harm", "danger", "honour")
# Older configuration files tagged helplines by "topics"; read them as reasons.
_TOPIC_AS_REASON = {"safety": "danger", "self_harm": "self_harm", "distress": "distress", "honour": "honour"}

# Why a person needs help -> which helplines fit. Keys are NLU intents and ticket reasons.
_REASON_OF = {
    "self_harm_risk": "self_harm",
    "safety_concern": "danger",
    "express_distress": "distress",
    "distress": "distress",
}

# Words that say the danger is "honour"-based abuse or forced marriage (folded like NLU input).
# Only then are Karma Nirvana and the Forced Marriage Unit offered. Awaiting native review.
HONOUR_SIGNS = tuple(
    normalise(w)
    for w in (
        "honour", "honor", "forced marriage", "force me to marry", "forcing me to marry", "make me marry",
        "izzat", "izzet", "namus", "ناموس", "عزت", "غیرت", "شرف", "زواج قسري", "زواج بالإكراه",
        "ازدواج اجباری", "زبردستی شادی", "زبردستی کی شادی", "zabardasti shaadi", "zabardasti shadi",
        "जबरन शादी", "ਜ਼ਬਰਦਸਤੀ ਵਿਆਹ", "জোর করে বিয়ে", "બળજબરીથી લગ્ન", "zorla evlendirme", "zorla evlilik",
        "matrimonio forzado", "casamento forçado", "casamento forcado", "mariage forcé", "mariage force",
        "małżeństwo przymusowe", "zmuszają do ślubu", "căsătorie forțată", "casatorie fortata", "guur qasab",
        "hawl gelekirin",
    )
)  # fmt: skip


def reason_for(why: str | None, text: str = "") -> str | None:
    """The helpline reason for an intent or ticket reason (and the words, for "honour"-based abuse)."""
    reason = _REASON_OF.get(why or "")
    if reason == "danger" and text:
        folded = normalise(text)
        if any(sign in folded for sign in HONOUR_SIGNS):
            return "honour"
    return reason


@dataclass(frozen=True)
class Helpline:
    """A service a family member can call or write to."""

    name: str
    number: str
    description: str  # English source text; translated when shown
    reasons: tuple[str, ...] = ()
    nations: tuple[str, ...] = NATIONS
    translate_name: bool = False

    def render(self) -> str:
        """One line: name, number, and what it is for, in the person's language."""
        name = _(self.name) if self.translate_name else self.name
        return f"{isolate(name)}: {isolate(self.number)}. {_(self.description)}"


@dataclass(frozen=True)
class Helplines:
    """The configured emergency line and helplines, for the nation this deployment serves."""

    emergency: Helpline
    lines: tuple[Helpline, ...]
    nation: str = "england"

    @classmethod
    def load(cls, path: Path, nation: str | None = None) -> Helplines:
        """Read the configuration file; fail clearly if the emergency number or the nation is wrong."""
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        emergency = data.get("emergency") or {}
        if not emergency.get("number"):
            raise ValueError(f"{path}: an emergency number is required")
        chosen = (nation or data.get("nation") or "england").strip().lower()
        if chosen not in NATIONS:
            raise ValueError(f"{path}: nation must be one of {', '.join(NATIONS)}, not {chosen!r}")
        lines = []
        for h in data.get("helplines", []):
            tags = h.get("reasons", [_TOPIC_AS_REASON[t] for t in h.get("topics", ()) if t in _TOPIC_AS_REASON])
            unknown = set(tags) - set(REASONS) | set(h.get("nations", ())) - set(NATIONS)
            if unknown:
                raise ValueError(f"{path}: {h.get('name')}: unknown reason or nation {sorted(unknown)}")
            lines.append(
                Helpline(
                    h["name"],
                    str(h["number"]),
                    h["description"],
                    tuple(tags),
                    tuple(h.get("nations") or NATIONS),
                    bool(h.get("translate_name")),
                )
            )
        return cls(
            emergency=Helpline("Emergency", str(emergency["number"]), emergency.get("description") or ""),
            lines=tuple(lines),
            nation=chosen,
        )

    @property
    def here(self) -> list[Helpline]:
        """Every helpline that serves this deployment's nation."""
        return [h for h in self.lines if self.nation in h.nations]

    def for_reason(self, reason: str | None) -> list[Helpline]:
        """The helplines that fit a reason, in this nation (none for no reason).

        "Honour"-based abuse is danger too: its own lines come after the domestic abuse ones.
        """
        wanted = ("danger", "honour") if reason == "honour" else (reason,)
        return list(dict.fromkeys(h for r in wanted for h in self.here if r and r in h.reasons))

    def emergency_line(self) -> str:
        """The one emergency line: the number to call now, and what to do if you cannot speak."""
        line = _("If you are in danger now, call {number}.").format(number=isolate(self.emergency.number))
        return line + (" " + _(self.emergency.description) if self.emergency.description else "")


def extract_helplines(
    fileobj: Any, keywords: Any, comment_tags: Any, options: Any
) -> Iterator[tuple[int, str, str, list[str]]]:
    """Babel extractor: the family-facing descriptions (and translated names) in a helplines file."""
    data = yaml.safe_load(fileobj.read().decode("utf-8"))
    entries = [data.get("emergency", {}), *data.get("helplines", [])]
    for entry in entries:
        if entry.get("translate_name") and entry.get("name"):
            yield 0, "_", entry["name"], ["Helpline name"]
        if entry.get("description"):
            yield 0, "_", entry["description"], ["Helpline description: " + str(entry.get("name", "emergency"))]
