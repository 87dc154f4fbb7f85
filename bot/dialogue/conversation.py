"""What the bot says next: safety first, then codes, commands anywhere, then the person's current step.

Deterministic flows: each state reads one message and answers it. Numbers and buttons always work;
free text goes through the pluggable NLU. The steps live in first_contact.py, menu.py and intake.py.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.content import topics
from bot.dialogue import codes, danger_check, form
from bot.dialogue.collect import COLLECT_HANDLERS, COLLECT_STATES
from bot.dialogue.first_contact import FirstContact, language_named
from bot.dialogue.free_text import is_free_text
from bot.dialogue.intake import Intake
from bot.dialogue.menu import Menu
from bot.dialogue.messages import Choice
from bot.dialogue.reach import Reach
from bot.dialogue.turn import Turn, ascii_digits, pick, pick_many
from bot.dialogue.words import is_command, normalise, words_in_any_language
from bot.i18n import BY_CODE, _, isolate, use_language
from bot.nlu.base import Parse
from bot.storage.models import StaffUser
from handoff.queue import alert_holder, open_ticket
from handoff.tickets import reply_expectation

__all__ = ["Conversation", "Turn", "ascii_digits", "pick", "pick_many"]


# Where someone is still getting started: every message there is heard by first contact itself.
FIRST_CONTACT_STATES = frozenset({"new", "language", "safe_now", "others_read", "code"})


class Conversation(FirstContact, Menu, Intake, Reach):
    """Answers one message according to where the person is in the conversation."""

    # ------------------------------------------------------------------ entry point
    def respond(self) -> None:
        """Answer the message: safety first, then stop/start, codes, commands, then the state."""
        t, c = self.t, self.c
        if self._is_stop():
            self._stop()
            return
        if t.data.get("confirm_stop") and self._stop_confirmed():
            return
        was_stopped, c.stopped = c.stopped, False
        parse = self._understand()
        if parse is not None and parse.triage == "urgent":
            if c.human_holds:
                self._urgent_while_held(parse.intent)
                return
            self._urgent(parse.intent)
            if c.state == "new":
                self.new_state(emergency_given=True)
            else:
                self._reprompt()
            return
        if t.too_long:
            # Said even while an advocate holds the conversation: they see only the start of it too.
            t.say(
                _(
                    "Sorry, that message is too long for me to read. Please send it in shorter parts, of up to {count} characters each."
                ).format(count=t.max_message_chars)
            )
            if c.state == "new":
                self.new_state()
            elif not c.human_holds:
                self._reprompt()
            return
        if danger_check.answer(self, parse):
            return  # the answer to "is anyone in danger now?"
        unsure = parse is not None and parse.triage == "check"
        if unsure and (c.state in FIRST_CONTACT_STATES or c.state in COLLECT_STATES):
            # First contact hears every message itself (a person reads it); an account is read by the
            # review's staff, and asking after each sentence of it would break into their memories.
            unsure = False
        if unsure and self._writing_their_own_words():
            # What they wrote is kept as the answer or account it was meant for; the question comes after.
            self._answer_by_state(was_stopped, parse)
            assert parse is not None
            danger_check.ask(self, parse)
            return
        if unsure and parse is not None and danger_check.ask(self, parse):
            return  # unsure whether someone is in danger: asked directly
        self._answer_by_state(was_stopped, parse)

    def _writing_their_own_words(self) -> bool:
        """Whether this message is content being given: an account, a free-text answer, contact details."""
        c = self.c
        if c.state.startswith("reach_"):
            return True
        question = form.BY_KEY.get(self.t.data.get("q") or "") if c.state == "form" else None
        return question is not None and question.kind == "text"

    def _answer_by_state(self, was_stopped: bool, parse: Parse | None) -> None:
        """Everything after safety: a held conversation's silence, files, START, codes, commands, the state."""
        t, c = self.t, self.c
        if c.human_holds:
            self._resumed_while_held()  # their own code on a new device still shows the advocate's words
            return  # an advocate is holding the conversation: the bot stays silent
        if t.inbound.media and c.state not in ("new", "language") and self.media_arrived():
            return  # files are checked, and kept as part of a contribution or looked at by a person
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

    def _listened_to_by_a_person(self) -> None:
        """A voice note or photo: the bot cannot understand it, and it may say someone is in danger."""
        ticket = open_ticket(self.t.session, self.c, reason="media", urgent=False)
        self.t.say(
            _(
                "Thank you for sending this. It is kept safely, and a person from our team will listen to it or look at it."
            )
        )
        self.t.say(reply_expectation(self.t.session, ticket, self.t.inbound.received_at))
        self._keep_in_touch(ask_now=False)  # (a web upload) the reprompt below asks the offer
        self._reprompt()

    # ------------------------------------------------------------------ understanding and safety
    def _understand(self) -> Parse | None:
        """Run the NLU (with its safety net) on free text; numbers and codes are never urgent."""
        text = self.t.text
        if not text or ascii_digits(text).replace(" ", "").replace(",", "").isdigit():
            return None
        if codes.join_code_in(text) or codes.resume_code_in(text) or codes.bare_code_in(text):
            return None
        if self.c.state == "language" and language_named(text):
            return None  # "en-GB", "Polski": a language being chosen
        parse = self.t.nlu.parse(text, self.c.language, free_text=is_free_text(self.t))
        self.t.intent = parse.intent
        self.t.detected_language = parse.language
        return parse

    def _is_stop(self) -> bool:
        return normalise(self.t.text) in words_in_any_language("stop")

    def _stop_language(self) -> str:
        """The language to answer STOP in: the person's own, unless the word is from another language."""
        own = self.c.language or "en"
        asked_in = self.t.data.get("confirm_stop")
        if isinstance(asked_in, str) and asked_in in BY_CODE:
            return asked_in  # answering "do you want to stop?": in the language it was asked in
        if self.t.is_word("stop"):
            return own
        return next((code for code in BY_CODE if is_command(self.t.text, "stop", code)), own)

    def _stop(self) -> None:
        """STOP: mid-form, ask once to be sure (their answers are kept); otherwise stop at once."""
        t, c = self.t, self.c
        lang = self._stop_language()
        with use_language(lang):
            if self._in_form() and not t.data.get("confirm_stop"):
                t.set_data(confirm_stop=lang)
                t.say(
                    _("Do you want to stop getting messages from us? Your answers so far are saved."),
                    self._stop_choices(),
                )
                return
            t.set_data(confirm_stop=False)
            c.stopped = True
            if self._in_form() or c.draft:
                t.say(
                    _(
                        "You will not get any more messages from us. Your answers so far are saved. To come back, just write to us here, any time."
                    )
                )
            else:
                t.say(_("You will not get any more messages from us. If you want to talk again, just write to us."))

    def _stop_choices(self) -> list[Choice]:
        return [Choice("stop", _("Yes, stop")), Choice("carry_on", _("No, carry on"))]

    def _stop_confirmed(self) -> bool:
        """The answer to "do you want to stop?": True if it was answered here."""
        t = self.t
        lang = self._stop_language()
        t.set_data(confirm_stop=False)
        with use_language(lang):
            answer = pick(t.text, self._stop_choices())
        if answer is None and is_command(t.text, "yes", lang) != is_command(t.text, "no", lang):
            answer = "stop" if is_command(t.text, "yes", lang) else "carry_on"
        answer = answer or {"yes": "stop", "no": "carry_on"}.get(self._yes_or_no() or "")
        if answer == "stop":
            t.set_data(confirm_stop=lang)
            self._stop()
            return True
        if answer == "carry_on":
            t.say(_("Thank you. Let's carry on."))
            self._reprompt()
            return True
        return False  # something else: answered as usual, and nothing is stopped

    def _urgent_language(self) -> str:
        """The person's language, or the one their message is written in, or English."""
        lang = self.c.language
        if lang is None:
            detected = self.t.detected_language
            lang = detected if detected in BY_CODE else "en"
        return lang

    def _urgent(self, intent: str) -> None:
        """Emergency numbers at once, in the person's language if known, and an urgent ticket."""
        t, c = self.t, self.c
        ticket = open_ticket(t.session, c, reason=intent, urgent=True)
        with use_language(self._urgent_language()):
            t.say(topics.emergency(t.helplines, intent, t.text))
            # Honest about when a person will answer (the helplines were just shown).
            t.say(reply_expectation(t.session, ticket, t.inbound.received_at))
            self._keep_in_touch(ask_now=False)  # the caller's reprompt asks the offer

    def _urgent_while_held(self, intent: str) -> None:
        """A person holds the conversation: the bot says only the emergency line, and alerts them."""
        alert_holder(self.t.session, self.c, reason=intent)
        with use_language(self._urgent_language()):
            self.t.say(self.t.helplines.emergency_line())

    # ------------------------------------------------------------------ commands anywhere
    def _global_commands(self, parse: Parse | None) -> bool:
        t = self.t
        # Understood free text acts as a command only at the menu: in the form or the first-contact
        # questions it is read as an answer, or heard and kept (FirstContact._hear_first_words).
        intent = parse.intent if parse is not None and not self._in_form() and not self._in_first_contact() else None
        if t.is_word("menu"):
            self.show_menu()
        elif t.is_word("help") or intent == "help":
            self._help()
        elif t.is_word("person") or intent == "request_advocate":
            self.to_a_person("requested")
        elif t.is_word("language") or intent == "change_language":
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
        return self.c.state in ("form", "summary", "change_pick") or self.c.state in COLLECT_STATES

    def _in_first_contact(self) -> bool:
        return self.c.state in ("safe_now", "others_read", "code")

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
        self._keep_in_touch(ask_now=True)

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
    "reach_offer": Conversation.reach_offer_state,
    "reach_detail": Conversation.reach_detail_state,
    "reach_when": Conversation.reach_when_state,
}
REPROMPTS: dict[str, Callable[[Conversation], None]] = {
    "language": Conversation.ask_language,
    "safe_now": Conversation.ask_safe_now,
    "others_read": Conversation.ask_others_read,
    "code": Conversation.ask_code,
    "summary": Conversation.show_summary,
    "change_pick": Conversation._ask_which_to_change,
    "reach_offer": Conversation.ask_reach_offer,
    "reach_detail": lambda conv: conv._ask_reach_detail(str(conv.t.data.get("reach_how") or "phone")),
    "reach_when": Conversation._ask_reach_when,
    "paused": lambda conv: conv.t.say(_("Shall we carry on where you left off?"), conv._yes_no()),
}
# Giving an account, a portrait, a name or files (bot/dialogue/collect.py).
STATES.update(COLLECT_HANDLERS)
REPROMPTS.update({state: Conversation.reprompt_collecting for state in COLLECT_STATES})
