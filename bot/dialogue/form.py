"""The contribution form: how a family member wants to take part, one short question at a time."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from bot.i18n import N_

Kind = Literal["one", "many", "text", "date"]
Answers = dict[str, Any]


@dataclass(frozen=True)
class Option:
    """One answer a person can pick; `label` is translated when shown."""

    value: str
    label: str


@dataclass(frozen=True)
class Question:
    """One question of the form; every question can be skipped."""

    key: str
    prompt: str
    kind: Kind
    options: tuple[Option, ...] = ()
    exclusive: tuple[str, ...] = ()  # options that cannot be combined with others
    asked_if: Callable[[Answers], bool] | None = None
    summary_label: str = ""


def _picked(key: str, *values: str) -> Callable[[Answers], bool]:
    def test(answers: Answers) -> bool:
        got = answers.get(key)
        chosen = got if isinstance(got, list) else [got]
        return any(v in chosen for v in values)

    return test


def _not_picked(key: str, *values: str) -> Callable[[Answers], bool]:
    test = _picked(key, *values)
    return lambda answers: not test(answers)


YES, NO, NOT_SURE = Option("yes", N_("Yes")), Option("no", N_("No")), Option("not_sure", N_("Not sure"))
YES_NO = (YES, NO)
_takes_part = _not_picked("ways", "no_part", "not_now")

QUESTIONS: tuple[Question, ...] = (
    Question(
        "relationship",
        N_("How did you know the person who died?"),
        "one",
        (
            # Translators: "their" always means the person who died.
            Option("parent", N_("I am their parent")),
            Option("child", N_("I am their child")),
            Option("partner", N_("I was their partner")),
            Option("sibling", N_("I am their brother or sister")),
            Option("relative", N_("Another family member")),
            Option("friend", N_("A friend")),
            Option("colleague", N_("A colleague")),
            Option("neighbour", N_("A neighbour")),
            Option("other", N_("Someone else close to them")),
        ),
        summary_label=N_("How you knew them"),
    ),
    Question(
        "relationship_detail",
        N_("In a few words, how did you know them?"),
        "text",
        asked_if=_picked("relationship", "relative", "other"),
        summary_label=N_("More about how you knew them"),
    ),
    Question(
        "ways",
        N_("How would you like to take part? You can choose more than one. Send the numbers, like: 1 3"),
        "many",
        (
            Option("talk_chair", N_("Talk with the chair, with an advocate there")),
            Option("written", N_("Write an account")),
            Option("voice", N_("Send a voice note")),
            Option("pen_portrait", N_("Tell the review who they were, in your own words")),
            Option("shape_questions", N_("Help choose the questions the review asks")),
            Option("meet_panel", N_("Meet the review panel")),
            Option("read_draft", N_("Read the draft report")),
            Option("suggest_name", N_("Suggest the name used for them in the report")),
            Option("not_now", N_("Not now. Ask me again later")),
            Option("no_part", N_("I don't want to take part")),
        ),
        exclusive=("not_now", "no_part"),
        summary_label=N_("How you want to take part"),
    ),
    Question(
        "ask_again_on",
        N_("When should we ask you again? Choose one, or type a date like 25/03/2027."),
        "date",
        (
            Option("1", N_("In 1 month")),
            Option("3", N_("In 3 months")),
            Option("6", N_("In 6 months")),
        ),
        asked_if=_picked("ways", "not_now"),
        summary_label=N_("When to ask you again"),
    ),
    Question(
        "questions",
        N_("What questions would you like the review to answer? Write as much or as little as you like."),
        "text",
        asked_if=_takes_part,
        summary_label=N_("Your questions for the review"),
    ),
    Question(
        "meeting_language",
        N_("Which language would you like to use when you speak with the review?"),
        "text",
        (Option("same", N_("The language of this chat")), Option("en", N_("English"))),
        asked_if=_takes_part,
        summary_label=N_("Language for meetings"),
    ),
    Question(
        "dialect",
        N_("Do you speak a particular dialect? Tell us, or skip."),
        "text",
        asked_if=_takes_part,
        summary_label=N_("Dialect"),
    ),
    Question(
        "interpreter",
        N_("Would you like an interpreter?"),
        "one",
        (
            Option("none", N_("No, I don't need one")),
            # Translators: the interpreter's gender.
            Option("woman", N_("Yes, a woman")),
            Option("man", N_("Yes, a man")),
            Option("any", N_("Yes, anyone")),
        ),
        asked_if=_takes_part,
        summary_label=N_("Interpreter"),
    ),
    Question(
        "interpreter_outside_community",
        N_("Would you prefer an interpreter from outside your community, for privacy?"),
        "one",
        (YES, NO, Option("no_preference", N_("I don't mind"))),
        asked_if=lambda a: _takes_part(a) and _picked("interpreter", "woman", "man", "any")(a),
        summary_label=N_("Interpreter from outside your community"),
    ),
    Question(
        "accessibility",
        N_(
            "Is there anything that would make taking part easier? For example large print, easy read, step-free access, or breaks."
        ),
        "text",
        (Option("none", N_("Nothing, thank you")),),
        asked_if=_takes_part,
        summary_label=N_("What would make it easier"),
    ),
    Question(
        "has_advocate",
        N_("Do you already have an advocate helping you?"),
        "one",
        (YES, NO, NOT_SURE),
        summary_label=N_("Already have an advocate"),
    ),
    Question(
        "wants_advocate",
        N_("You have the right to a free, independent advocate. Would you like one?"),
        "one",
        (YES, NO, NOT_SURE),
        asked_if=_not_picked("has_advocate", "yes"),
        summary_label=N_("Would like an advocate"),
    ),
    Question(
        "specialist_advocate",
        N_("Would you like an advocate from a specialist service for your community?"),
        "one",
        (YES, NO, NOT_SURE),
        asked_if=_not_picked("has_advocate", "yes"),
        summary_label=N_("Advocate from a specialist service"),
    ),
    Question(
        "contact_channel",
        N_("How should the review contact you?"),
        "one",
        (
            Option("this_chat", N_("Here, in this chat")),
            Option("phone", N_("A phone call")),
            Option("email", N_("Email")),
            Option("letter", N_("A letter")),
            Option("advocate", N_("Through my advocate")),
        ),
        summary_label=N_("How to contact you"),
    ),
    # The number or address for the way chosen just above (kept encrypted with the answers; the chair
    # sees it only with the person's consent to share, see CONTACT_DETAILS).
    Question(
        "contact_phone",
        N_("What phone number should the review call?"),
        "text",
        asked_if=_picked("contact_channel", "phone"),
        summary_label=N_("Phone number"),
    ),
    Question(
        "contact_email",
        N_("What email address should the review write to?"),
        "text",
        asked_if=_picked("contact_channel", "email"),
        summary_label=N_("Email address"),
    ),
    Question(
        "contact_postal",
        N_("What postal address should the review write to?"),
        "text",
        asked_if=_picked("contact_channel", "letter"),
        summary_label=N_("Postal address"),
    ),
    Question(
        "safe_days",
        N_("Which days are safe to contact you? Send the numbers, like: 1 2 3"),
        "many",
        (
            Option("mon", N_("Monday")),
            Option("tue", N_("Tuesday")),
            Option("wed", N_("Wednesday")),
            Option("thu", N_("Thursday")),
            Option("fri", N_("Friday")),
            Option("sat", N_("Saturday")),
            Option("sun", N_("Sunday")),
            Option("any", N_("Any day")),
        ),
        exclusive=("any",),
        summary_label=N_("Safe days"),
    ),
    Question(
        "safe_times",
        N_("Which times of day are safe? Send the numbers, like: 1 3"),
        "many",
        (
            Option("morning", N_("Morning (9am to 12 noon)")),
            Option("afternoon", N_("Afternoon (12 noon to 5pm)")),
            Option("evening", N_("Evening (5pm to 9pm)")),
            Option("any", N_("Any time")),
        ),
        exclusive=("any",),
        summary_label=N_("Safe times"),
    ),
    Question(
        "leave_messages",
        N_("May we leave you a message if you don't answer?"),
        "one",
        YES_NO,
        summary_label=N_("We may leave messages"),
    ),
    Question(
        "discreet_wording",
        N_(
            "Should the messages we send you first only say that you have a new message? This helps if someone else might see your phone."
        ),
        "one",
        YES_NO,
        # Translators: a heading in the summary of answers: messages worded so others cannot tell what they are about.
        summary_label=N_("Discreet messages"),
    ),
    Question(
        "consent_share_chair",
        N_("May we share what you have told us with the review's chair?"),
        "one",
        YES_NO,
        summary_label=N_("Share with the chair"),
    ),
    Question(
        "consent_quote",
        N_("May the report quote your words? It would never name you."),
        "one",
        YES_NO,
        asked_if=_takes_part,
        summary_label=N_("Quote your words in the report"),
    ),
    Question(
        "consent_name",
        N_(
            "May the review use your name when it writes to you or about your part in it? The published report never names you."
        ),
        "one",
        YES_NO,
        asked_if=_takes_part,
        summary_label=N_("Use your name"),
    ),
)
BY_KEY = {q.key: q for q in QUESTIONS}
SKIPPED = "__skipped__"
# Answers that say how to reach the person: shown to the chair only with consent to share.
CONTACT_DETAILS = ("contact_phone", "contact_email", "contact_postal")


def applicable(answers: Answers) -> list[Question]:
    """The questions that apply, given the answers so far (some only follow certain answers)."""
    return [q for q in QUESTIONS if q.asked_if is None or q.asked_if(answers)]


def next_question(answers: Answers, after: str | None = None) -> Question | None:
    """The next question to ask after `after` (or the first), skipping ones that do not apply."""
    keys = [q.key for q in QUESTIONS]
    start = keys.index(after) + 1 if after else 0
    for q in QUESTIONS[start:]:
        if q.asked_if is None or q.asked_if(answers):
            return q
    return None


def previous_question(answers: Answers, before: str) -> Question | None:
    """The question asked before `before`, for "back"."""
    asked = applicable(answers)
    keys = [q.key for q in asked]
    if before not in keys:
        return asked[-1] if asked else None
    i = keys.index(before)
    return asked[i - 1] if i > 0 else None


def cleaned(answers: Answers) -> Answers:
    """The answers that still apply (an earlier change can make a follow-up irrelevant)."""
    keep = {q.key for q in applicable(answers)}
    return {k: v for k, v in answers.items() if k in keep}
