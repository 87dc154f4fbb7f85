"""The contribution form: how a family member wants to take part, one short question at a time."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from bot.i18n import N_

Kind = Literal["one", "many", "text", "date"]
Answers = dict[str, Any]

# Answer keys and option values that code outside the form reads (reminders, safe times, the
# dispatcher, the chair's view, exports): renaming one here renames it everywhere.
RELATIONSHIP = "relationship"
RELATIONSHIP_DETAIL = "relationship_detail"
WAYS = "ways"
ASK_AGAIN_ON = "ask_again_on"
QUESTIONS_FOR_REVIEW = "questions"
KEEP_INFORMED = "keep_informed"
CONTACT_CHANNEL = "contact_channel"
MEETING_LANGUAGE = "meeting_language"
DIALECT = "dialect"
INTERPRETER = "interpreter"
INTERPRETER_OUTSIDE_COMMUNITY = "interpreter_outside_community"
ACCESSIBILITY = "accessibility"
HAS_ADVOCATE = "has_advocate"
SPECIALIST_ADVOCATE = "specialist_advocate"
LEAVE_MESSAGES = "leave_messages"
SAFE_DAYS = "safe_days"
SAFE_TIMES = "safe_times"
DISCREET_WORDING = "discreet_wording"
WANTS_ADVOCATE = "wants_advocate"
CONSENT_SHARE_CHAIR = "consent_share_chair"
CONSENT_QUOTE = "consent_quote"
CONSENT_NAME = "consent_name"
ANSWER_YES, ANSWER_NO = "yes", "no"
ANY = "any"  # "any day", "any time"
# Ways of taking part (options of WAYS).
WAY_WRITTEN = "written"
WAY_VOICE = "voice"
WAY_PORTRAIT = "pen_portrait"
WAY_NAME = "suggest_name"
WAY_NOT_NOW = "not_now"
WAY_NO_PART = "no_part"


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


YES, NO = Option(ANSWER_YES, N_("Yes")), Option(ANSWER_NO, N_("No"))
NOT_SURE = Option("not_sure", N_("Not sure"))
YES_NO = (YES, NO)
_takes_part = _not_picked(WAYS, WAY_NO_PART, WAY_NOT_NOW)
# Someone who does not want to take part is asked only whether to keep them informed.
_not_declined = _not_picked(WAYS, WAY_NO_PART)

QUESTIONS: tuple[Question, ...] = (
    Question(
        RELATIONSHIP,
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
        RELATIONSHIP_DETAIL,
        N_("In a few words, how did you know them?"),
        "text",
        asked_if=_picked(RELATIONSHIP, "relative", "other"),
        summary_label=N_("More about how you knew them"),
    ),
    Question(
        WAYS,
        N_("How would you like to take part? You can choose more than one. Send the numbers, like: 1 3"),
        "many",
        (
            Option("talk_chair", N_("Talk with the chair, with an advocate there")),
            Option(WAY_WRITTEN, N_("Write an account")),
            Option(WAY_VOICE, N_("Send a voice note")),
            Option(WAY_PORTRAIT, N_("Tell the review who they were, in your own words")),
            Option("shape_questions", N_("Help choose the questions the review asks")),
            Option("meet_panel", N_("Meet the review panel")),
            Option("read_draft", N_("Read the draft report")),
            Option(WAY_NAME, N_("Suggest the name used for them in the report")),
            Option(WAY_NOT_NOW, N_("Not now. Ask me again later")),
            Option(WAY_NO_PART, N_("I don't want to take part")),
        ),
        exclusive=(WAY_NOT_NOW, WAY_NO_PART),
        summary_label=N_("How you want to take part"),
    ),
    Question(
        ASK_AGAIN_ON,
        N_("When should we ask you again? Choose one, or type a date like 25/03/2027."),
        "date",
        (
            Option("1", N_("In 1 month")),
            Option("3", N_("In 3 months")),
            Option("6", N_("In 6 months")),
        ),
        asked_if=_picked(WAYS, WAY_NOT_NOW),
        summary_label=N_("When to ask you again"),
    ),
    Question(
        KEEP_INFORMED,
        N_(
            "Would you like us to keep you informed about the review, for example when the report is published? You don't need to do anything else."
        ),
        "one",
        YES_NO,
        asked_if=_picked(WAYS, WAY_NO_PART),
        summary_label=N_("Keep you informed"),
    ),
    Question(
        QUESTIONS_FOR_REVIEW,
        N_("What questions would you like the review to answer? Write as much or as little as you like."),
        "text",
        asked_if=_takes_part,
        summary_label=N_("Your questions for the review"),
    ),
    Question(
        MEETING_LANGUAGE,
        N_("Which language would you like to use when you speak with the review?"),
        "text",
        (Option("same", N_("The language of this chat")), Option("en", N_("English"))),
        asked_if=_takes_part,
        summary_label=N_("Language for meetings"),
    ),
    Question(
        DIALECT,
        N_("Do you speak a particular dialect? Tell us, or skip."),
        "text",
        asked_if=_takes_part,
        summary_label=N_("Dialect"),
    ),
    Question(
        INTERPRETER,
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
        INTERPRETER_OUTSIDE_COMMUNITY,
        N_("Would you prefer an interpreter from outside your community, for privacy?"),
        "one",
        (YES, NO, Option("no_preference", N_("I don't mind"))),
        asked_if=lambda a: _takes_part(a) and _picked(INTERPRETER, "woman", "man", "any")(a),
        summary_label=N_("Interpreter from outside your community"),
    ),
    Question(
        ACCESSIBILITY,
        N_(
            "Is there anything that would make taking part easier? For example large print, easy read, step-free access, or breaks."
        ),
        "text",
        (Option("none", N_("Nothing, thank you")),),
        asked_if=_takes_part,
        summary_label=N_("What would make it easier"),
    ),
    Question(
        HAS_ADVOCATE,
        N_("Do you already have an advocate helping you?"),
        "one",
        (YES, NO, NOT_SURE),
        asked_if=_not_declined,
        summary_label=N_("Already have an advocate"),
    ),
    Question(
        WANTS_ADVOCATE,
        N_("You have the right to a free, independent advocate. Would you like one?"),
        "one",
        (YES, NO, NOT_SURE),
        asked_if=lambda a: _not_declined(a) and _not_picked(HAS_ADVOCATE, ANSWER_YES)(a),
        summary_label=N_("Would like an advocate"),
    ),
    Question(
        SPECIALIST_ADVOCATE,
        N_("Would you like an advocate from a specialist service for your community?"),
        "one",
        (YES, NO, NOT_SURE),
        asked_if=lambda a: _not_declined(a) and _not_picked(HAS_ADVOCATE, ANSWER_YES)(a),
        summary_label=N_("Advocate from a specialist service"),
    ),
    Question(
        CONTACT_CHANNEL,
        N_("How should the review contact you?"),
        "one",
        (
            Option("this_chat", N_("Here, in this chat")),
            Option("phone", N_("A phone call")),
            Option("email", N_("Email")),
            Option("letter", N_("A letter")),
            Option("advocate", N_("Through my advocate")),
        ),
        asked_if=_not_declined,
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
        SAFE_DAYS,
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
            Option(ANY, N_("Any day")),
        ),
        exclusive=(ANY,),
        asked_if=_not_declined,
        summary_label=N_("Safe days"),
    ),
    Question(
        SAFE_TIMES,
        N_("Which times of day are safe? Send the numbers, like: 1 3"),
        "many",
        (
            Option("morning", N_("Morning (9am to 12 noon)")),
            Option("afternoon", N_("Afternoon (12 noon to 5pm)")),
            Option("evening", N_("Evening (5pm to 9pm)")),
            Option(ANY, N_("Any time")),
        ),
        exclusive=(ANY,),
        asked_if=_not_declined,
        summary_label=N_("Safe times"),
    ),
    Question(
        LEAVE_MESSAGES,
        N_("May we leave you a message if you don't answer?"),
        "one",
        YES_NO,
        asked_if=_not_declined,
        summary_label=N_("We may leave messages"),
    ),
    Question(
        DISCREET_WORDING,
        N_(
            "Should the messages we send you first only say that you have a new message? This helps if someone else might see your phone."
        ),
        "one",
        YES_NO,
        # Translators: a heading in the summary of answers: messages worded so others cannot tell what they are about.
        asked_if=_not_declined,
        summary_label=N_("Discreet messages"),
    ),
    Question(
        CONSENT_SHARE_CHAIR,
        N_("May we share what you have told us with the review's chair?"),
        "one",
        YES_NO,
        asked_if=_not_declined,
        summary_label=N_("Share with the chair"),
    ),
    Question(
        CONSENT_QUOTE,
        N_("May the report quote your words? It would never name you."),
        "one",
        YES_NO,
        asked_if=_takes_part,
        summary_label=N_("Quote your words in the report"),
    ),
    Question(
        CONSENT_NAME,
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
