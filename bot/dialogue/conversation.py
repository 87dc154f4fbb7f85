"""What the bot says next: first contact, information, the contribution form, and the way to a person.

Deterministic flows: each state reads one message and answers it. Numbers and buttons always work;
free text goes through the pluggable NLU. Safety comes first in every state.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.content import topics
from bot.content.helplines import Helplines
from bot.dialogue import codes, form
from bot.dialogue.form import SKIPPED, Question
from bot.dialogue.messages import Choice, Inbound, Outbound
from bot.dialogue.words import is_command, normalise, words_in_any_language
from bot.i18n import BY_CODE, LANGUAGES, _, format_day, isolate, resolve_language, use_language
from bot.nlu.base import NLU, Parse
from bot.storage.models import Case, Contact, ContributionVersion, Invitation, StaffUser, utcnow
from handoff.queue import open_ticket
from handoff.tickets import reply_expectation

MAX_CODE_ATTEMPTS = 5
MAX_MISUNDERSTOOD = 3


@dataclass
class Turn:
    """One message from a person and everything needed to answer it."""

    session: Session
    contact: Contact
    inbound: Inbound
    nlu: NLU
    helplines: Helplines
    replies: list[Outbound] = field(default_factory=list)
    intent: str | None = None
    detected_language: str | None = None

    def say(self, text: str, choices: Sequence[Choice] = (), many: bool = False) -> None:
        """Queue a reply in the person's language (the caller has already translated it)."""
        self.replies.append(Outbound(text, tuple(choices), many))

    @property
    def text(self) -> str:
        """The words the person sent."""
        return self.inbound.text.strip()

    @property
    def data(self) -> dict[str, Any]:
        """Small bookkeeping for the current state (never personal content)."""
        return self.contact.state_data

    def go(self, state: str, **data: Any) -> None:
        """Move the conversation to a new state."""
        self.contact.state = state
        self.contact.state_data = {**self.contact.state_data, **data}

    def set_data(self, **data: Any) -> None:
        """Update bookkeeping (reassigned, so the change is saved)."""
        self.contact.state_data = {**self.contact.state_data, **data}

    def is_word(self, key: str) -> bool:
        """Whether the message is a command word in the person's language or English."""
        return is_command(self.text, key, self.contact.language or "en")


def ascii_digits(text: str) -> str:
    """Arabic-Indic, Persian, Devanagari and other digits read as 0-9."""
    return "".join(str(unicodedata.decimal(ch)) if ch.isdecimal() else ch for ch in text)


def pick(text: str, choices: Sequence[Choice]) -> str | None:
    """The choice a reply names: by its number, its label, or its value."""
    t = normalise(ascii_digits(text)).rstrip(".)")
    if t.isdigit() and 1 <= int(t) <= len(choices):
        return choices[int(t) - 1].value
    for c in choices:
        if t in (normalise(c.label), c.value.lower()):
            return c.value
    return None


def pick_many(text: str, choices: Sequence[Choice]) -> list[str] | None:
    """Several choices from "1 3 5", "1,3" or labels separated by commas; None if any is unclear."""
    whole = pick(text, choices)
    if whole is not None:
        return [whole]
    digits = ascii_digits(text)
    only_numbers = re.fullmatch(r"[\d\s,;،.]+", digits) is not None
    parts = [p for p in re.split(r"[,;،.\s]+" if only_numbers else r"[,;،\n]+", digits) if p.strip()]
    picked: list[str] = []
    for part in parts:
        value = pick(part, choices)
        if value is None:
            return None
        if value not in picked:
            picked.append(value)
    return picked or None


class Conversation:
    """Answers one message according to where the person is in the conversation."""

    def __init__(self, turn: Turn) -> None:
        self.t = turn
        self.c = turn.contact

    # ------------------------------------------------------------------ entry point
    def respond(self) -> None:
        """Answer the message: safety first, then stop/start, codes, commands, then the state."""
        t, c = self.t, self.c
        if self._is_stop():
            c.stopped = True
            t.say(_("You will not get any more messages from us. If you want to talk again, just write to us."))
            return
        was_stopped, c.stopped = c.stopped, False
        parse = self._understand()
        if parse is not None and parse.triage == "urgent":
            self._urgent(parse.intent)
            if c.state == "new":
                self.new_state()
            elif not c.human_holds:
                self._reprompt()
            return
        if c.human_holds:
            return  # an advocate is holding the conversation: the bot stays silent
        if was_stopped and self.t.is_word("start"):
            t.say(_("Welcome back. You will get messages from us again."))
            self._reprompt()
            return
        if self._codes():
            return
        if c.state in ("new", "language"):
            STATES[c.state](self)
            return
        if self._global_commands(parse):
            return
        STATES.get(c.state, Conversation.menu_state)(self)

    # ------------------------------------------------------------------ understanding and safety
    def _understand(self) -> Parse | None:
        """Run the NLU (with its safety net) on free text; numbers and codes are never urgent."""
        text = self.t.text
        if not text or ascii_digits(text).replace(" ", "").replace(",", "").isdigit():
            return None
        if codes.join_code_in(text) or codes.resume_code_in(text) or codes.bare_code_in(text):
            return None
        if resolve_language(text) or normalise(text) in LANGUAGE_NAMES:
            return None  # "en-GB", "Polski": a language being chosen
        parse = self.t.nlu.parse(text, self.c.language)
        self.t.intent = parse.intent
        self.t.detected_language = parse.language
        return parse

    def _is_stop(self) -> bool:
        return normalise(self.t.text) in words_in_any_language("stop")

    def _urgent(self, intent: str) -> None:
        """Emergency numbers at once, in the person's language if known, and an urgent ticket."""
        t, c = self.t, self.c
        lang = c.language
        if lang is None:
            detected = t.nlu.parse(t.text).language if t.text else None
            lang = detected if detected in BY_CODE else "en"
        ticket = open_ticket(t.session, c, reason=intent, urgent=True)
        with use_language(lang):
            t.say(topics.emergency(t.helplines, intent))
            # Honest about when a person will answer (the helplines were just shown).
            t.say(reply_expectation(t.session, ticket, t.inbound.received_at))

    # ------------------------------------------------------------------ codes
    def _codes(self) -> bool:
        """JOIN and RESUME codes work from any state."""
        join = codes.join_code_in(self.t.text)
        if join:
            if self.c.state in ("new", "language"):
                self.t.set_data(pending_code=join)
                return False
            self._join(join)
            self._reprompt()
            return True
        resume = codes.resume_code_in(self.t.text)
        if resume is None:
            return False
        if self.c.resume_code_hash == codes.code_hash(resume):
            self.t.say(_("Welcome back. Your answers are saved. Let's carry on."))
            self._continue_form()
            return True
        # Codes are only ever checked against the stored hash; a wrong one reveals nothing.
        self.t.say(_("Sorry, that code did not work. Please check it and try again."))
        if self.c.state in ("new", "language"):
            return False
        self._reprompt()
        return True

    def _join(self, code: str) -> bool:
        """Link the person to their case with a single-use invitation code."""
        t, c = self.t, self.c
        failures = int(t.data.get("code_failures", 0))
        if failures >= MAX_CODE_ATTEMPTS:
            t.say(_("That code has been tried too many times. Please ask the person who gave it to you for help."))
            return False
        invitation = t.session.scalars(select(Invitation).where(Invitation.code_hash == codes.code_hash(code))).first()
        now = utcnow()
        valid = invitation is not None and invitation.used_at is None and invitation.expires_at > now
        if invitation is not None and invitation.used_by_contact_id == c.id:
            t.say(_("You are already linked to this review."))
            return True
        if not valid or (c.case_id is not None and invitation is not None and c.case_id != invitation.case_id):
            t.set_data(code_failures=failures + 1)
            t.say(
                _(
                    "Sorry, that code did not work. It may have been used already or run out. Please check it and try again, or ask the person who gave it to you for a new one."
                )
            )
            return False
        assert invitation is not None
        invitation.used_at = now
        invitation.used_by_contact_id = c.id
        c.case_id = invitation.case_id
        case = t.session.get(Case, invitation.case_id)
        if case is not None and c.advocate_id is None:
            c.advocate_id = case.lead_advocate_id
        t.say(
            _(
                "Thank you. You are now linked to the review. Only the people working on the review can see that you are taking part."
            )
        )
        return True

    # ------------------------------------------------------------------ commands anywhere
    def _global_commands(self, parse: Parse | None) -> bool:
        t = self.t
        if t.is_word("menu"):
            self.show_menu()
        elif t.is_word("help") or (parse is not None and parse.intent == "help" and not self._in_form()):
            self._help()
        elif t.is_word("person") or (parse is not None and parse.intent == "request_advocate" and not self._in_form()):
            self.to_a_person("requested")
        elif t.is_word("language") or (parse is not None and parse.intent == "change_language" and not self._in_form()):
            t.go("language", after_language="menu")
            self.ask_language()
        elif t.is_word("pause") and self._in_form():
            self._pause()
        elif t.is_word("back") and not self._in_form():
            self.show_menu()
        else:
            return False
        return True

    def _in_form(self) -> bool:
        return self.c.state in ("form", "summary", "change_pick")

    def _help(self) -> None:
        self.t.say(
            _(
                "You can send: MENU to see the options, BACK to go back, SKIP to skip a question, PAUSE to stop and carry on later, or PERSON to talk to a person. In an emergency, call {number}."
            ).format(number=isolate(self.t.helplines.emergency.number))
        )
        self._reprompt()

    def to_a_person(self, reason: str, urgent: bool = False) -> None:
        """Record that the person wants a human, and tell them honestly who and when."""
        t, c = self.t, self.c
        ticket = open_ticket(t.session, c, reason=reason, urgent=urgent)
        advocate = t.session.get(StaffUser, ticket.routed_to_id) if ticket.routed_to_id else None
        if advocate is not None:
            t.say(
                _("Thank you. I have asked {name}, your advocate, to contact you. They will reply here.").format(
                    name=isolate(advocate.display_name)
                )
            )
        elif c.case_id is not None:
            t.say(_("Thank you. I have asked an advocate to contact you. They will reply here."))
        else:
            t.say(
                _(
                    "Thank you. I have asked someone from our team to contact you. They will reply here, at the times you said are safe."
                )
            )
        t.say(reply_expectation(t.session, ticket, t.inbound.received_at, helplines=t.helplines))
        t.say(_("If you are in danger, call {number}.").format(number=isolate(t.helplines.emergency.number)))

    # ------------------------------------------------------------------ first contact
    def new_state(self) -> None:
        """The very first message: emergency advice first, then the language menu."""
        t = self.t
        join = codes.join_code_in(t.text)
        if join:
            t.set_data(pending_code=join)
        hint = resolve_language(t.inbound.language_hint)
        with use_language("en"):
            t.say(_("Hello. If you are in danger now, call {number}.").format(number=t.helplines.emergency.number))
        t.go("language", after_language="intro", hint=hint)
        self.ask_language()

    def ask_language(self) -> None:
        """The language menu, each language in its own name."""
        hint = self.t.data.get("hint") or self.c.language or "en"
        with use_language(hint):
            prompt = _("Which language would you like to use? Reply with a number.")
        if hint != "en":
            with use_language("en"):
                prompt = _("Which language would you like to use? Reply with a number.") + "\n" + prompt
        self.t.say(prompt, [Choice(lang.code, lang.native_name) for lang in LANGUAGES])

    def language_state(self) -> None:
        """Choosing a language by number, name or code."""
        t, c = self.t, self.c
        choices = [Choice(lang.code, lang.native_name) for lang in LANGUAGES]
        code = (
            pick(t.text, choices)
            or resolve_language(t.text)
            or next((lang.code for lang in LANGUAGES if normalise(t.text) == normalise(lang.english_name)), None)
        )
        if code is None:
            with use_language(c.language or t.data.get("hint") or "en"):
                t.say(_("Sorry, I didn't understand. Please reply with the number of your language."))
            self.ask_language()
            return
        c.language = code
        with use_language(code):
            after = t.data.get("after_language", "intro")
            if after == "intro":
                for text in topics.about_service(t.helplines):
                    t.say(text)
                t.go("safe_now")
                self.ask_safe_now()
            else:
                t.say(
                    _("Thank you. I will write in {language} from now on.").format(language=BY_CODE[code].native_name)
                )
                self.show_menu()

    def ask_safe_now(self) -> None:
        self.t.say(_("Is it safe for you to talk now?"), self._yes_no())

    def safe_now_state(self) -> None:
        answer = self._yes_or_no()
        if answer is None:
            self._sorry()
            self.ask_safe_now()
        elif answer == "no":
            self.c.safe_to_talk = False
            self.t.say(
                _(
                    "That's okay. Please close this chat now. We will not message you first. Write to us any time it is safe, and we will carry on."
                )
            )
            self.t.go("unsafe_wait")
        else:
            self.c.safe_to_talk = True
            self.t.go("others_read")
            self.ask_others_read()

    def unsafe_wait_state(self) -> None:
        self.t.say(_("Welcome back."))
        self.t.go("safe_now")
        self.ask_safe_now()

    def ask_others_read(self) -> None:
        self.t.say(
            _("Could someone else read these messages?"),
            [Choice("yes", _("Yes")), Choice("no", _("No")), Choice("not_sure", _("Not sure"))],
        )

    def others_read_state(self) -> None:
        t, c = self.t, self.c
        choices = [Choice("yes", _("Yes")), Choice("no", _("No")), Choice("not_sure", _("Not sure"))]
        answer = pick(t.text, choices) or self._yes_or_no()
        if answer is None:
            self._sorry()
            self.ask_others_read()
            return
        c.discreet = answer in ("yes", "not_sure")
        if c.discreet:
            t.say(
                _(
                    "Thank you for telling us. Our messages will use plain wording that does not mention the review. You can delete this chat after each conversation."
                )
            )
        pending = t.data.get("pending_code")
        if pending:
            t.set_data(pending_code=None)
            if self._join(pending):
                self.show_menu()
                return
        if c.case_id is not None:
            self.show_menu()
            return
        t.go("code")
        self.ask_code()

    def ask_code(self) -> None:
        self.t.say(
            _("Do you have an invitation code from the review? It looks like this: ABCD-EFGH."),
            [Choice("have", _("I have a code")), Choice("none", _("I don't have a code"))],
        )

    def code_state(self) -> None:
        t = self.t
        typed = codes.bare_code_in(t.text)
        if typed:
            if self._join(typed):
                self.show_menu()
            return
        choices = [Choice("have", _("I have a code")), Choice("none", _("I don't have a code"))]
        answer = pick(t.text, choices) or {"yes": "have", "no": "none"}.get(self._yes_or_no() or "")
        if answer == "have":
            t.say(_("Please type your code."))
        elif answer == "none":
            t.say(_("That's okay. You can still read everything here, and ask us to contact you."))
            self.show_menu()
        else:
            self._sorry()
            self.ask_code()

    # ------------------------------------------------------------------ the menu and information
    def _menu_choices(self) -> list[Choice]:
        has_saved = self._latest_version() is not None
        return [
            Choice("review", _("What is a review?")),
            Choice("stages", _("The stages and how long it takes")),
            Choice("ways", _("Ways to take part")),
            Choice("advocate", _("Advocates")),
            Choice("privacy", _("Privacy and your information")),
            Choice("support", _("Support and helplines")),
            Choice("form", _("See or change your answers") if has_saved else _("Tell us how you want to take part")),
            Choice("person", _("Talk to a person") if self.c.case_id else _("Ask us to contact you")),
            Choice("language", _("Change language")),
        ]

    def show_menu(self) -> None:
        """The main menu."""
        self.t.go("menu", q=None)
        self.t.say(_("What would you like to do? Reply with a number."), self._menu_choices())

    def menu_state(self) -> None:
        t = self.t
        choice = pick(t.text, self._menu_choices()) or self._topic_from_intent()
        if choice is None:
            self._misunderstood()
            return
        self.c.misunderstood = 0
        self.open_topic(choice)
        self._offer_language()

    def _offer_language(self) -> None:
        """Someone writing in another language is answered first, then offered that language."""
        t, c = self.t, self.c
        lang = t.detected_language
        declined = t.data.get("declined_languages") or []
        if not lang or lang == c.language or lang not in BY_CODE or lang in declined or len(t.text) < 12:
            return
        if c.state != "menu":
            return
        if t.replies and t.replies[-1].choices:
            # The menu comes back after the answer; two numbered lists at once would confuse on SMS.
            t.replies.pop()
        with use_language(lang):
            t.say(
                _("Would you like to continue in {language}?").format(language=BY_CODE[lang].native_name),
                self._yes_no(),
            )
        t.go("language_offer", offered=lang)

    def language_offer_state(self) -> None:
        t, c = self.t, self.c
        offered = t.data.get("offered")
        with use_language(offered):
            answer = pick(t.text, self._yes_no()) or self._yes_or_no()
            if answer is None and is_command(t.text, "yes", offered or "en"):
                answer = "yes"
            if answer is None and is_command(t.text, "no", offered or "en"):
                answer = "no"
        if answer == "yes" and offered in BY_CODE:
            c.language = offered
            with use_language(offered):
                self.show_menu()
        elif answer == "no":
            t.set_data(declined_languages=[*(t.data.get("declined_languages") or []), offered])
            self.show_menu()
        else:
            t.go("menu")
            self.menu_state()

    def _topic_from_intent(self) -> str | None:
        intent = self.t.intent
        return {
            "ask_what_is_review": "review",
            "ask_process_steps": "stages",
            "ask_how_to_contribute": "ways",
            "register_contribution": "form",
            "update_preferences": "form",
            "request_advocate": "person",
            "ask_privacy": "privacy",
            "ask_report": "stages",
            "choose_pseudonym": "privacy",
            "ask_support": "support",
            "change_language": "language",
            "greet": "greet",
            "thank_you": "thanks",
            "goodbye": "goodbye",
            "not_ready": "not_ready",
            "express_distress": "distress",
            "share_information": "share",
            "complaint": "complaint",
            "delete_my_data": "delete",
            "request_interpreter": "interpreter",
            "affirm": "menu",
            "deny": "goodbye",
            "help": "help",
            "opt_out": "opt_out",
        }.get(intent or "")

    def open_topic(self, choice: str) -> None:
        """Answer a menu choice or a recognised question."""
        t, h = self.t, self.t.helplines
        info: dict[str, Callable[[], list[str]]] = {
            "review": topics.what_is_a_review,
            "stages": topics.stages,
            "ways": topics.ways_to_take_part,
            "advocate": topics.advocates,
            "privacy": topics.privacy,
            "support": lambda: topics.support(h),
        }
        if choice in info:
            for text in info[choice]():
                t.say(text)
            t.say(_("Is there anything else? Reply with a number."), self._menu_choices())
            return
        if choice == "form":
            self.start_form()
        elif choice == "person":
            self.to_a_person("requested")
        elif choice == "language":
            t.go("language", after_language="menu")
            self.ask_language()
        elif choice == "distress":
            t.say(_("I'm so sorry. What you are feeling matters. You don't have to go through this alone."))
            self.to_a_person("distress")
        elif choice in ("share", "complaint", "interpreter"):
            t.say(_("Thank you for telling us. A person from our team will read this and reply to you."))
            self.to_a_person(
                {"share": "share_information", "complaint": "complaint", "interpreter": "interpreter"}[choice]
            )
        elif choice == "delete":
            t.say(
                _(
                    "You can ask us to delete your information. A person from our team will check and contact you to confirm. This keeps anyone else from deleting it."
                )
            )
            self.to_a_person("delete_request")
        elif choice == "not_ready":
            t.say(
                _(
                    "That's okay. There is no rush. You can come back any time, and you can change your mind whenever you want."
                )
            )
        elif choice == "thanks":
            t.say(_("You're welcome. Take care of yourself."))
        elif choice == "goodbye":
            t.say(_("Take care. You can write to us any time."))
        elif choice == "opt_out":
            t.say(_("If you want no more messages from us, send STOP."))
        elif choice == "help":
            self._help()
        else:
            self.show_menu()

    def _misunderstood(self) -> None:
        """Re-ask kindly; after repeated misunderstanding, offer and then bring in a person."""
        c, t = self.c, self.t
        c.misunderstood += 1
        if c.misunderstood >= MAX_MISUNDERSTOOD:
            c.misunderstood = 0
            t.say(_("I'm sorry, I'm finding it hard to understand. I will ask a person to help."))
            self.to_a_person("misunderstood")
            return
        t.say(_("Sorry, I didn't understand. Please reply with a number from the list."), self._menu_choices())
        if c.misunderstood == MAX_MISUNDERSTOOD - 1:
            t.say(_("If you prefer, send PERSON to talk to a person."))

    # ------------------------------------------------------------------ the contribution form
    def _latest_version(self) -> ContributionVersion | None:
        return self.t.session.scalars(
            select(ContributionVersion)
            .where(ContributionVersion.contact_id == self.c.id)
            .order_by(ContributionVersion.version.desc())
        ).first()

    def start_form(self) -> None:
        """Begin the form, or show saved answers to change them."""
        latest = self._latest_version()
        if latest is not None:
            self.c.draft = dict(latest.answers)
            self.show_summary()
            return
        if self.c.draft:
            self._continue_form()
            return
        self.c.draft = {}
        self.t.say(
            _(
                "Thank you. I will ask a few short questions. It takes about 10 minutes. You can SKIP any question, go BACK, or PAUSE and carry on later."
            )
        )
        first = form.next_question({})
        assert first is not None
        self.ask(first)

    def _continue_form(self) -> None:
        """Pick up where the person left off."""
        draft = self.c.draft or {}
        key = self.t.data.get("q")
        question = form.BY_KEY.get(key) if key else None
        if question is None:
            question = next((q for q in form.applicable(draft) if q.key not in draft), None)
        if question is None:
            self.show_summary()
        else:
            self.ask(question)

    def _question_choices(self, q: Question) -> list[Choice]:
        return [Choice(o.value, _(o.label)) for o in q.options] + [Choice(SKIPPED, _("Skip"))]

    def ask(self, q: Question) -> None:
        """Ask one question of the form."""
        self.t.go("form", q=q.key)
        self.t.say(_(q.prompt), self._question_choices(q), many=q.kind == "many")

    def form_state(self) -> None:
        t, c = self.t, self.c
        q = form.BY_KEY.get(t.data.get("q") or "")
        if q is None:
            self._continue_form()
            return
        if t.is_word("back"):
            prev = form.previous_question(c.draft or {}, q.key)
            if prev is None:
                self.show_menu()
            else:
                self.ask(prev)
            return
        value = self._read_answer(q)
        if value is None:
            t.say(self._reask_text(q))
            self.ask(q)
            return
        draft = dict(c.draft or {})
        draft[q.key] = value
        c.draft = form.cleaned(draft) | {k: v for k, v in draft.items() if k == q.key}
        if q.key == "discreet_wording" and value in ("yes", "no"):
            c.discreet = value == "yes"
        if t.data.get("return_to_summary"):
            t.set_data(return_to_summary=False)
            nxt = next((x for x in form.applicable(c.draft) if x.key not in c.draft), None)
            self._ask_or_summarise(nxt)
            return
        nxt = form.next_question(c.draft, q.key)
        self._ask_or_summarise(nxt)

    def _ask_or_summarise(self, question: Question | None) -> None:
        """The next question, or the summary when none is left."""
        if question is None:
            self.show_summary()
        else:
            self.ask(question)

    def _read_answer(self, q: Question) -> Any:
        """The answer a message gives to a question, or None if it is not one."""
        t = self.t
        choices = self._question_choices(q)
        if t.is_word("skip") or pick(t.text, choices) == SKIPPED:
            return SKIPPED
        if q.kind == "one":
            return pick(t.text, choices) or (
                self._yes_or_no() if {o.value for o in q.options} >= {"yes", "no"} else None
            )
        if q.kind == "many":
            picked = pick_many(t.text, choices[:-1])
            if picked and len(picked) > 1 and any(v in q.exclusive for v in picked):
                return None
            return picked
        if q.kind == "date":
            return self._read_date(pick(t.text, choices[:-1]))
        chosen = pick(t.text, choices[:-1]) if q.options else None
        if chosen is not None:
            return {"same": c_lang_name(self.c), "en": "English", "none": _("Nothing, thank you")}.get(chosen, chosen)
        return t.text if len(t.text) >= 1 else None

    def _read_date(self, months: str | None) -> str | None:
        today = self.t.inbound.received_at.date()
        if months is not None:
            return (today + timedelta(days=30 * int(months))).isoformat()
        text = ascii_digits(self.t.text)
        for fmt in ("%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y-%m-%d", "%d/%m/%y"):
            try:
                day = datetime.strptime(text, fmt).date()
            except ValueError:
                continue
            if today < day <= today + timedelta(days=2 * 366):
                return day.isoformat()
        return None

    def _reask_text(self, q: Question) -> str:
        if q.kind == "many":
            return _(
                "Sorry, I didn't catch that. Please send the numbers of your choices, like: 1 3. You can also send SKIP."
            )
        if q.kind == "date":
            return _(
                "Sorry, I didn't catch that. Please choose a number, or type a date in the future like 25/03/2027."
            )
        return _("Sorry, I didn't catch that. Please reply with a number from the list, or send SKIP.")

    def _pause(self) -> None:
        """Keep every answer and give a private code to carry on later, on any channel."""
        code = codes.new_code()
        self.c.resume_code_hash = codes.code_hash(code)
        self.t.go("paused")
        self.t.say(
            _(
                "Your answers so far are saved. To carry on later, here or on another app, send: {code}. Please keep this code private."
            ).format(code=isolate("RESUME " + code))
        )

    def paused_state(self) -> None:
        answer = self._yes_or_no()
        if answer == "yes":
            self._continue_form()
        elif answer == "no":
            self.show_menu()
        else:
            self.t.say(_("Welcome back. Your answers are saved. Shall we carry on where you left off?"), self._yes_no())

    def _answer_text(self, q: Question, value: Any) -> str:
        if value == SKIPPED:
            return _("(skipped)")
        labels = {o.value: _(o.label) for o in q.options}
        if isinstance(value, list):
            return ", ".join(labels.get(v) or str(v) for v in value)
        if q.kind == "date":
            return format_day(datetime.fromisoformat(value + "T12:00:00+00:00"), self.c.timezone)
        return isolate(labels.get(value, str(value)))

    def show_summary(self) -> None:
        """Everything the person said, to confirm before it is saved."""
        draft = self.c.draft or {}
        lines = [
            f"{n}. {_(q.summary_label)}: {self._answer_text(q, draft.get(q.key, SKIPPED))}"
            for n, q in enumerate(form.applicable(draft), start=1)
        ]
        self.t.go("summary", q=None)
        self.t.say(_("Here is what you told us:") + "\n" + "\n".join(lines))
        self.t.say(
            _("Is this right?"),
            [Choice("save", _("Yes, save it")), Choice("change", _("Change an answer")), Choice("pause", _("Pause"))],
        )

    def summary_state(self) -> None:
        t = self.t
        choices = [
            Choice("save", _("Yes, save it")),
            Choice("change", _("Change an answer")),
            Choice("pause", _("Pause")),
        ]
        choice = pick(t.text, choices) or {"yes": "save", "no": "change"}.get(self._yes_or_no() or "")
        if choice == "save":
            self._save()
        elif choice == "change":
            self._ask_which_to_change()
        elif choice == "pause":
            self._pause()
        else:
            self._sorry()
            self.t.say(_("Is this right?"), choices)

    def _ask_which_to_change(self) -> None:
        draft = self.c.draft or {}
        self.t.go("change_pick")
        self.t.say(
            _("Which answer would you like to change? Reply with a number."),
            [Choice(q.key, _(q.summary_label)) for q in form.applicable(draft)],
        )

    def change_pick_state(self) -> None:
        draft = self.c.draft or {}
        choices = [Choice(q.key, _(q.summary_label)) for q in form.applicable(draft)]
        key = pick(self.t.text, choices)
        if self.t.is_word("back"):
            self.show_summary()
        elif key is None:
            self._sorry()
            self._ask_which_to_change()
        else:
            self.t.set_data(return_to_summary=True)
            self.ask(form.BY_KEY[key])

    def _save(self) -> None:
        """Save a new version, unless nothing changed; older versions are kept."""
        t, c = self.t, self.c
        answers = form.cleaned(dict(c.draft or {}))
        latest = self._latest_version()
        if latest is not None and latest.answers == answers:
            t.say(_("Nothing has changed. Your answers are already saved."))
        else:
            number = (
                t.session.scalar(
                    select(func.max(ContributionVersion.version)).where(ContributionVersion.contact_id == c.id)
                )
                or 0
            ) + 1
            t.session.add(
                ContributionVersion(
                    contact_id=c.id, case_id=c.case_id, version=number, answers=answers, channel=t.inbound.channel
                )
            )
            t.say(_("Thank you. Your answers are saved. You can change them at any time from the menu."))
            if answers.get("consent_share_chair") == "yes":
                t.say(_("The review's chair will see what you told us. Nobody else in your family will."))
            else:
                t.say(
                    _(
                        "We will not share your answers with the chair unless you say yes. Nobody else in your family will see them."
                    )
                )
            if answers.get("wants_advocate") == "yes":
                self.to_a_person("advocate_requested")
        c.draft = None
        c.resume_code_hash = None
        self.show_menu()

    # ------------------------------------------------------------------ helpers
    def _yes_no(self) -> list[Choice]:
        return [Choice("yes", _("Yes")), Choice("no", _("No"))]

    def _yes_or_no(self) -> str | None:
        """Yes or no, by button, number, word, or understood intent."""
        t = self.t
        picked = pick(t.text, self._yes_no())
        if picked:
            return picked
        yes, no = t.is_word("yes"), t.is_word("no")
        if yes and no:
            return None  # e.g. Polish "no" means "yeah": ask again rather than guess
        if yes:
            return "yes"
        if no:
            return "no"
        if t.intent == "affirm":
            return "yes"
        if t.intent == "deny":
            return "no"
        return None

    def _sorry(self) -> None:
        self.t.say(_("Sorry, I didn't catch that. Please choose one of the options."))

    def _reprompt(self) -> None:
        """Ask again whatever the person was last asked, so nothing is lost after an interruption."""
        state = self.c.state
        if state == "form":
            self._continue_form()
        elif state in REPROMPTS:
            REPROMPTS[state](self)
        elif state in ("new", "unsafe_wait"):
            return
        else:
            self.show_menu()


LANGUAGE_NAMES = frozenset(normalise(n) for lang in LANGUAGES for n in (lang.native_name, lang.english_name))


def c_lang_name(contact: Contact) -> str:
    """The native name of a person's chat language."""
    return BY_CODE[contact.language or "en"].native_name


STATES: dict[str, Callable[[Conversation], None]] = {
    "new": Conversation.new_state,
    "language": Conversation.language_state,
    "safe_now": Conversation.safe_now_state,
    "unsafe_wait": Conversation.unsafe_wait_state,
    "others_read": Conversation.others_read_state,
    "code": Conversation.code_state,
    "menu": Conversation.menu_state,
    "form": Conversation.form_state,
    "paused": Conversation.paused_state,
    "summary": Conversation.summary_state,
    "change_pick": Conversation.change_pick_state,
    "language_offer": Conversation.language_offer_state,
}
REPROMPTS: dict[str, Callable[[Conversation], None]] = {
    "language": Conversation.ask_language,
    "safe_now": Conversation.ask_safe_now,
    "others_read": Conversation.ask_others_read,
    "code": Conversation.ask_code,
    "summary": Conversation.show_summary,
    "change_pick": Conversation._ask_which_to_change,
    "paused": lambda conv: conv.t.say(_("Shall we carry on where you left off?"), conv._yes_no()),
}
