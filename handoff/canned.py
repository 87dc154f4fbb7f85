"""Canned replies an advocate can send, in the family's own language (translated like all family text)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.i18n import N_, _, use_language
from handoff.i18n import t


@dataclass(frozen=True)
class Canned:
    """One ready-made reply: a short staff-facing title and the family-facing text."""

    key: str
    title: str
    text: str


CANNED: tuple[Canned, ...] = (
    Canned(
        "hello",
        t("Introduce yourself"),
        N_("Hello, I am an advocate. I have read your messages and I am here to help. You can write to me here."),
    ),
    Canned(
        "safe_now",
        t("Are you safe now?"),
        N_("Are you safe to talk right now? If not, you do not need to reply: I will wait until you write again."),
    ),
    Canned(
        "call_back",
        t("Offer a call"),
        N_("Would you like me to call you? Tell me a safe day and time, and the best number."),
    ),
    Canned(
        "interpreter",
        t("Offer an interpreter"),
        N_("We can arrange an interpreter for you, free of charge. Would you like one?"),
    ),
    Canned(
        "take_time",
        t("No pressure"),
        N_("There is no rush. You can take part when you are ready, or not at all. It is your choice."),
    ),
    Canned(
        "back_to_bot",
        t("Hand back"),
        N_("Thank you for talking with me. The assistant will help you again now. Write PERSON any time to reach us."),
    ),
)
BY_KEY = {c.key: c for c in CANNED}


def render(key: str, language: str | None) -> str:
    """A canned reply in the person's language (English if there is no translation yet)."""
    with use_language(language):
        return _(BY_KEY[key].text)


def all_rendered(language: str | None) -> list[tuple[str, str, str]]:
    """(key, title, text) for every canned reply, in the person's language."""
    with use_language(language):
        return [(c.key, c.title, _(c.text)) for c in CANNED]


# Updates a chair can send every family member of a case, each in their own language.
UPDATES: dict[str, Canned] = {
    c.key: c
    for c in (
        Canned(
            "stage",
            t("The review has reached a new stage"),
            N_(
                "An update about the review: it has now reached this stage: {stage}. Write to us if you have any questions."
            ),
        ),
        Canned(
            "still_working",
            t("Still working, no news yet"),
            N_(
                "An update about the review: it is still going on. Reviews often take a year or more. We will keep you updated. Write to us if you have any questions."
            ),
        ),
        Canned(
            "meeting",
            t("The chair would like to meet"),
            N_(
                "An update about the review: the chair would like to meet you, if you wish. Write to us to choose a time, or say if you would prefer not to."
            ),
        ),
        Canned(
            "draft_ready",
            t("The draft report is ready to read"),
            N_(
                "An update about the review: the draft report is ready for you to read in private, if you wish. Write to us and we will arrange it with you."
            ),
        ),
    )
}
