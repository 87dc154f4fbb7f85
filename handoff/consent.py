"""Consent as one rule: whether something a family member gave us may be used in a given way.

Every staff view and export of a family member's answers, contributions and attachments asks `permitted`
first. The family were told "we will not share your answers with the chair unless you say yes", so
without that yes nothing they gave us reaches the chair - not even the options they picked. Only their
consent choices themselves are always shown, so that staff can respect them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

from bot.dialogue import form

YES = form.ANSWER_YES

# The form's consent questions: these record what the person allows, and are shown so staff can respect them.
SHARE_WITH_CHAIR = form.CONSENT_SHARE_CHAIR
QUOTE_IN_REPORT = form.CONSENT_QUOTE
USE_NAME = form.CONSENT_NAME
SHARE_WITH_PANEL = "consent_share_panel"
CONSENT_KEYS = (SHARE_WITH_CHAIR, QUOTE_IN_REPORT, USE_NAME, SHARE_WITH_PANEL)


class Use(StrEnum):
    """The ways staff may use what a family member gave us; each needs its own yes."""

    CHAIR_READS = "chair_reads"
    QUOTED_IN_REPORT = "quoted_in_report"
    SHARED_WITH_PANEL = "shared_with_panel"


# The form answer that grants each use, when the item carries no consent of its own.
GRANTED_BY = {
    Use.CHAIR_READS: SHARE_WITH_CHAIR,
    Use.QUOTED_IN_REPORT: QUOTE_IN_REPORT,
    Use.SHARED_WITH_PANEL: SHARE_WITH_PANEL,
}

ItemKind = Literal["answer", "contribution", "attachment"]


@dataclass(frozen=True)
class Item:
    """One stored thing a family member gave us: a form answer (by key), a contribution or an attachment.

    `consents` holds the item's own answers per use, where the person was asked about this item on its own;
    they take precedence over the form's general consent answers.
    """

    kind: ItemKind
    key: str = ""
    consents: Mapping[Use, bool] = field(default_factory=dict)


def permitted(item: Item, use: Use, answers: Mapping[str, Any]) -> bool:
    """Whether `item` may be used for `use`, given the person's latest form answers.

    Every use beyond reading needs the chair to be allowed to read it too: a report cannot quote
    words the chair was not allowed to see.
    """
    if item.kind == "answer" and item.key in CONSENT_KEYS:
        return True
    if use is not Use.CHAIR_READS and not permitted(item, Use.CHAIR_READS, answers):
        return False
    if use in item.consents:
        return item.consents[use]
    return answers.get(GRANTED_BY[use]) == YES


def answer(key: str) -> Item:
    """A form answer as a consent item."""
    return Item("answer", key)


def shares_with_chair(answers: Mapping[str, Any]) -> bool:
    """Whether the person agreed, in the form, to share what they told us with the chair."""
    return answers.get(SHARE_WITH_CHAIR) == YES
