"""What the bot says next: safety first, then codes, commands anywhere, then the person's current step.

Deterministic flows: each state reads one message and answers it. Numbers and buttons always work;
free text goes through the pluggable NLU. The steps live in first_contact.py, menu.py and intake.py.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.content import topics
from bot.dialogue import codes, danger_check
from bot.dialogue.first_contact import FirstContact, language_named
from bot.dialogue.free_text import is_free_text
from bot.dialogue.intake import Intake
from bot.dialogue.menu import Menu
from bot.dialogue.turn import Turn, ascii_digits, pick, pick_many
from bot.dialogue.words import normalise, words_in_any_language
from bot.i18n import BY_CODE, _, isolate, use_language
from bot.nlu.base import Parse
from bot.storage.models import StaffUser
from handoff.queue import open_ticket
from handoff.tickets import reply_expectation

__all__ = ["Conversation", "Turn", "ascii_digits", "pick", "pick_many"]


class Conversation(FirstContact, Menu, Intake):
    """Answers one message according to where the person is in the conversation."""

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
        if danger_check.answer(self, parse) or (parse is not None and danger_check.ask(self, parse)):
            return  # unsure whether someone is in danger: asked directly, or acted on the answer
        if c.human_holds:
            return  # an advocate is holding the conversation: the bot stays silent
        if t.inbound.media and not t.text and c.state not in ("new", "language"):
            self._listened_to_by_a_person()
            return
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
