"""First contact: emergency advice, the language, is it safe to talk, who may read, and the invitation code."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.channels.registry import channel
from bot.content import topics
from bot.dialogue import codes
from bot.dialogue.messages import Choice, discreet_notice
from bot.dialogue.turn import Step, ascii_digits, pick
from bot.dialogue.words import normalise
from bot.i18n import BY_CODE, LANGUAGES, Language, _, isolate, resolve_language, use_language
from bot.nlu.base import FALLBACK_INTENT
from bot.storage.models import Case, Invitation, Ticket, utcnow
from handoff.queue import OPEN_STATUSES, open_ticket, route
from handoff.tickets import reply_expectation


def _names(language: Language) -> set[str]:
    """What people type to name a language: its own name, its English name, or a part of it."""
    english = language.english_name.replace("(", ",").replace(")", "")
    return {normalise(language.native_name), normalise(english)} | {normalise(p) for p in english.split(",")}


LANGUAGE_NAMES = {name: lang.code for lang in LANGUAGES for name in _names(lang)}
# Codes people know as a language switch and that are no word of their own: Welsh public services
# show "CY" on their bilingual pages.
BARE_CODES = {"cy"}


def language_named(text: str) -> str | None:
    """The language a reply to the language menu names: by number, by name, or a code like en-GB.

    A bare code is not enough: "hi" is a greeting long before it is Hindi, and "so" is an English word.
    """
    typed = normalise(ascii_digits(text))
    if typed.isdigit():
        return pick(typed, [Choice(lang.code, lang.native_name) for lang in LANGUAGES])
    if typed in LANGUAGE_NAMES:
        return LANGUAGE_NAMES[typed]
    if typed in BARE_CODES:
        return typed
    return resolve_language(typed) if "-" in typed or "_" in typed else None


LANGUAGE_CHOICES = [Choice(lang.code, lang.native_name) for lang in LANGUAGES]
MORE_LANGUAGES = "more"

# Free text during first contact (see FirstContact._hear_first_words).
LONG_MESSAGE_WORDS = 6  # a message this long that the NLU did not place is still someone telling us something
SMALL_TALK = frozenset(
    {"greet", "goodbye", "affirm", "deny", "thank_you", "help", "change_language", "not_ready", "opt_out"}
    | {"register_contribution", "update_preferences"}
)
UNPLACED = frozenset({FALLBACK_INTENT, "help"})  # a long message read as one of these is someone telling us
SHARING = frozenset({"share_information", "express_distress"})  # said with sympathy first
PERSON_READS = {  # what a person from the team reads, as the reason of the ticket it opens
    "share_information": "share_information",
    "express_distress": "distress",
    "complaint": "complaint",
    "request_advocate": "requested",
    "request_interpreter": "interpreter",
    "delete_my_data": "delete_request",
}
QUESTION_TOPICS = {  # questions answered once first contact is done
    "ask_what_is_review": "review",
    "ask_process_steps": "stages",
    "ask_report": "stages",
    "ask_how_to_contribute": "ways",
    "ask_privacy": "privacy",
    "choose_pseudonym": "privacy",
    "ask_support": "support",
}


def moved_notice(discreet: bool) -> str:
    """Said where a person last wrote from when a RESUME code carries their conversation elsewhere."""
    if discreet:
        return _("Your chat with us was just opened on another device. If this was not you, send PERSON.")
    return _(
        "Your conversation with us about the review was just continued on another phone or app, with your private RESUME code. If this was not you, send PERSON and we will help."
    )


def code_lasts(days: int) -> str:
    """How long a private RESUME code works, and how to get a new one."""
    return _("This code works for {days} days. If it runs out, send NEW CODE here for a new one.").format(days=days)


class FirstContact(Step):
    """From the first hello to the menu, and invitation and resume codes at any time."""

    # ------------------------------------------------------------------ codes
    def _codes(self) -> bool:
        """JOIN and RESUME codes, and asking for a new RESUME code, work from any state."""
        join = codes.join_code_in(self.t.text)
        if join:
            if self.c.state in ("new", "language"):
                self.t.set_data(pending_code=codes.code_hashes(join))  # kept hashed, never in clear
                return False
            if self._join(join) and self.c.state == "code":
                self._reach_menu()  # the code they were asked for: nothing more to ask
            else:
                self._reprompt()
            return True
        if codes.resume_code_in(self.t.text) is None:
            return self._new_code_asked()
        attempt = self.t.resume  # checked, within the guessing limits, by the engine
        if attempt is not None and attempt.outcome == "worked":
            self._messages_while_away()
            if self.c.draft is not None or self.c.state in ("form", "paused", "summary", "change_pick"):
                self.t.say(_("Welcome back. Your answers are saved. Let's carry on."))
                self._continue_form()
            else:
                self.t.say(_("Welcome back."))
                self._reprompt()
            return True
        if attempt is not None and attempt.outcome == "wait":
            self.t.say(_("Too many codes have been tried just now. Please wait a few minutes and try again."))
        else:
            # A wrong code and one that ran out get the same answer: neither reveals anything.
            self.t.say(_("Sorry, that code did not work. Please check it and try again."))
            self.t.say(
                _(
                    "Codes stop working after {days} days. To get a new one, send NEW CODE where you were given it."
                ).format(days=self.t.code_policy.resume_lasts.days)
            )
        if self.c.state in ("new", "language"):
            return False
        self._reprompt()
        return True

    def _new_code_asked(self) -> bool:
        """NEW CODE: a fresh private RESUME code replaces the old one (which may have run out)."""
        t, c = self.t, self.c
        # While an invitation code is asked for, "new code" is about that code: the step answers it.
        if c.state in ("new", "language", "code") or not t.is_word("new_code"):
            return False
        if c.resume_code_hash is None and not c.draft:
            t.say(_("A private RESUME code is given when you PAUSE the form. You have no paused answers just now."))
            self._reprompt()
            return True
        code = codes.give_resume_code(c, t.code_policy, t.inbound.received_at)
        t.say(
            _(
                "Here is your new private code. To carry on later, here or on another app, send: {code}. Your old code no longer works."
            ).format(code=isolate("RESUME " + code))
        )
        t.say(code_lasts(t.code_policy.resume_lasts.days))
        self._reprompt()
        return True

    def _join(self, code: str | list[str]) -> bool:
        """Link the person to their case with a single-use invitation code (or its hashes, kept while
        first contact finishes)."""
        t, c = self.t, self.c
        # Wrong codes are counted per code, per address and overall, in the database (see codes.py).
        client, tried_at = f"{t.inbound.channel}:{t.inbound.address}", t.inbound.received_at
        # A code kept while first contact finished is known only by its hashes: the first names it.
        tried = code if isinstance(code, str) else code[0]
        if codes.wait_before_trying(t.session, t.code_policy, tried, client, tried_at) > timedelta(0):
            t.say(_("That code has been tried too many times. Please ask the person who gave it to you for help."))
            return False
        hashes = code if isinstance(code, list) else codes.code_hashes(code)
        invitation = t.session.scalars(select(Invitation).where(Invitation.code_hash.in_(hashes))).first()
        now = utcnow()
        valid = invitation is not None and invitation.used_at is None and invitation.expires_at > now
        if invitation is not None and invitation.used_by_contact_id == c.id:
            t.say(_("You are already linked to this review."))
            return True
        if not valid or (c.case_id is not None and invitation is not None and c.case_id != invitation.case_id):
            codes.record_wrong_code(t.session, "join", tried, client, tried_at)
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

    # ------------------------------------------------------------------ first contact
    def new_state(self, emergency_given: bool = False) -> None:
        """The very first message: one emergency line, then the language (offered if we can tell it)."""
        t = self.t
        join = codes.join_code_in(t.text)
        if join:
            t.set_data(pending_code=codes.code_hashes(join))  # kept hashed, never in clear
        # The app's language setting, or the language the first message was written in.
        hint = resolve_language(t.inbound.language_hint) or t.detected_language
        with use_language(hint or "en"):
            if not emergency_given and channel(t.inbound.channel).shows_emergency_number:
                # The page's own notice already gives the number: one emergency line on the first screen.
                t.say(_(t.helplines.emergency.description))
            elif not emergency_given:
                t.say(
                    _("Hello. If you are in danger now, call {number}.").format(
                        number=isolate(t.helplines.emergency.number)
                    )
                    + " "
                    + _(t.helplines.emergency.description)
                )
            self._hear_first_words()
        t.go("language", after_language="intro", hint=hint, offered=[hint] if hint else None)
        self.ask_language()

    def _language_offer_choices(self, offered: list[str]) -> list[Choice]:
        """A short list: the language we think they wrote in, English, and the rest on request."""
        codes_ = list(dict.fromkeys([*offered, "en"]))
        return [Choice(code, BY_CODE[code].native_name) for code in codes_] + [
            Choice(MORE_LANGUAGES, _("More languages"))
        ]

    def ask_language(self) -> None:
        """The language menu, each language in its own name; a short list when we can tell their language."""
        hint = self.t.data.get("hint") or self.c.language or "en"
        offered = self.t.data.get("offered")
        with use_language(hint):
            prompt = _("Which language would you like to use?")
            choices = self._language_offer_choices(offered) if offered else LANGUAGE_CHOICES
        if hint != "en":
            with use_language("en"):
                english = _("Which language would you like to use?")
            if english != prompt:  # a language not translated yet would say it twice
                prompt = english + "\n" + prompt
        self.t.say(prompt, choices)

    def language_state(self) -> None:
        """Choosing a language by button, number, name or code, or by writing in it."""
        t, c = self.t, self.c
        offered = t.data.get("offered")
        if offered:
            with use_language(t.data.get("hint") or "en"):
                code = pick(t.text, self._language_offer_choices(offered))
            if code is None and self._yes_or_no() == "yes":
                code = offered[0]  # "yes" to the language we offered
            if code == MORE_LANGUAGES or (code is None and self._yes_or_no() == "no"):
                t.set_data(offered=None)
                self.ask_language()
                return
            if code is None and not ascii_digits(t.text).strip().isdigit():
                code = language_named(t.text)
        else:
            code = language_named(t.text)
        if code is None:
            self._language_not_named()
            return
        c.language = code
        t.set_data(offered=None)
        with use_language(code):
            after = t.data.get("after_language", "intro")
            if after == "intro":
                for text in topics.about_service():
                    t.say(text)
                t.go("safe_now")
                self.ask_safe_now()
            else:
                t.say(
                    _("Thank you. I will write in {language} from now on.").format(language=BY_CODE[code].native_name)
                )
                self.show_menu()

    def _language_not_named(self) -> None:
        """Free text at the language question: offer the language it is written in, or ask again kindly."""
        t, c = self.t, self.c
        detected = t.detected_language if t.detected_language in BY_CODE else None
        with use_language(c.language or detected or t.data.get("hint") or "en"):
            heard = self._hear_first_words()
            if detected:
                t.set_data(hint=detected, offered=[detected])
            elif not heard:
                t.say(_("Sorry, I didn't understand. Please choose your language."))
        self.ask_language()

    # ------------------------------------------------------------------ free text during first contact
    def _hear_first_words(self) -> bool:
        """Someone telling us what happened before we have asked anything: say we are sorry (once), and
        keep what they said, so that a person reads it; a question is kept to answer at the menu.
        Returns whether the message said something (not just "hello" or "ok")."""
        t = self.t
        intent = t.intent
        if intent in UNPLACED and len(t.text.split()) >= LONG_MESSAGE_WORDS:
            intent = "share_information"  # not understood, but someone is telling us something
        if intent is None or intent in SMALL_TALK or intent == FALLBACK_INTENT:
            return False
        reason = PERSON_READS.get(intent)
        if reason is not None:
            if intent in SHARING and not t.data.get("sorry_said"):
                t.say(_("I am so sorry for your loss, and thank you for telling us."))
                t.set_data(sorry_said=True)
            if not t.data.get("kept_ticket"):
                ticket = open_ticket(t.session, self.c, reason=reason, urgent=False)
                t.set_data(kept_ticket=ticket.id)
                t.say(_("I have kept what you wrote, and a person from our team will read it."))
        elif intent in QUESTION_TOPICS and not t.data.get("kept_topic"):
            t.set_data(kept_topic=QUESTION_TOPICS[intent])
            t.say(_("Thank you for your question. I will answer it after a few short questions."))
        return True

    def _reach_menu(self) -> None:
        """The end of first contact: what they told us is followed up, and the menu is shown."""
        t, c = self.t, self.c
        kept, topic = t.data.get("kept_ticket"), t.data.get("kept_topic")
        t.set_data(kept_ticket=None, kept_topic=None)
        ticket = t.session.get(Ticket, kept) if kept else None
        if ticket is not None and ticket.status in OPEN_STATUSES:  # not already dealt with meanwhile
            if ticket.case_id is None and c.case_id is not None:
                # They joined their review after writing: their own advocate should read it.
                ticket.case_id = c.case_id
                route(t.session, ticket, c)
            t.say(reply_expectation(t.session, ticket, t.inbound.received_at, helplines=t.helplines))
        if topic:
            t.go("menu", q=None)
            self.open_topic(topic)
        else:
            self.show_menu()

    def ask_safe_now(self) -> None:
        self.t.say(_("Is it safe for you to talk now?"), self._yes_no())

    def _not_an_answer(self) -> None:
        """Free text instead of an answer: heard and kept if it says something, else a kind re-ask."""
        if not self._hear_first_words():
            self._sorry()

    def safe_now_state(self) -> None:
        answer = self._yes_or_no()
        if answer is None:
            self._not_an_answer()
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
        self._hear_first_words()
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
            self._not_an_answer()
            self.ask_others_read()
            return
        c.discreet = answer in ("yes", "not_sure")
        if c.discreet:
            # Exactly what discreet mode does (bot/channels/dispatcher.py): what we send first shows
            # only a neutral notice; answers to their own messages arrive in full.
            t.say(
                _(
                    'Thank you for telling us. When we write to you first, your phone will only show: "{notice}" Our answers to your messages are shown in full, so you may want to delete this chat after each conversation.'
                ).format(notice=discreet_notice())
            )
        pending = t.data.get("pending_code")
        if pending:
            t.set_data(pending_code=None)
            if self._join(pending):
                self._reach_menu()
                return
        if c.case_id is not None:
            self._reach_menu()
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
                self._reach_menu()
            return
        choices = [Choice("have", _("I have a code")), Choice("none", _("I don't have a code"))]
        answer = pick(t.text, choices) or {"yes": "have", "no": "none"}.get(self._yes_or_no() or "")
        if answer == "have":
            t.say(_("Please type your code."))
        elif answer == "none":
            t.say(_("That's okay. You can still read everything here, and ask us to contact you."))
            self._reach_menu()
        else:
            self._not_an_answer()
            self.ask_code()
