"""First contact: emergency advice, the language, is it safe to talk, who may read, and the invitation code."""

from __future__ import annotations

from sqlalchemy import select

from bot.content import topics
from bot.dialogue import codes
from bot.dialogue.messages import Choice
from bot.dialogue.turn import Step, ascii_digits, pick
from bot.dialogue.words import normalise
from bot.i18n import BY_CODE, LANGUAGES, Language, _, isolate, resolve_language, use_language
from bot.storage.models import Case, Invitation, utcnow


def _names(language: Language) -> set[str]:
    """What people type to name a language: its own name, its English name, or a part of it."""
    english = language.english_name.replace("(", ",").replace(")", "")
    return {normalise(language.native_name), normalise(english)} | {normalise(p) for p in english.split(",")}


LANGUAGE_NAMES = {name: lang.code for lang in LANGUAGES for name in _names(lang)}


def language_named(text: str) -> str | None:
    """The language a reply to the language menu names: by number, by name, or a code like en-GB.

    A bare code is not enough: "hi" is a greeting long before it is Hindi, and "so" is an English word.
    """
    typed = normalise(ascii_digits(text))
    if typed.isdigit():
        return pick(typed, [Choice(lang.code, lang.native_name) for lang in LANGUAGES])
    if typed in LANGUAGE_NAMES:
        return LANGUAGE_NAMES[typed]
    return resolve_language(typed) if "-" in typed or "_" in typed else None


MAX_CODE_ATTEMPTS = 5  # wrong invitation codes before a person is asked to get help


class FirstContact(Step):
    """From the first hello to the menu, and invitation and resume codes at any time."""

    # ------------------------------------------------------------------ codes
    def _codes(self) -> bool:
        """JOIN and RESUME codes work from any state."""
        join = codes.join_code_in(self.t.text)
        if join:
            if self.c.state in ("new", "language"):
                self.t.set_data(pending_code=codes.code_hashes(join))  # kept hashed, never in clear
                return False
            self._join(join)
            self._reprompt()
            return True
        resume = codes.resume_code_in(self.t.text)
        if resume is None:
            return False
        if self.c.resume_code_hash in codes.code_hashes(resume):
            self.t.say(_("Welcome back. Your answers are saved. Let's carry on."))
            self._continue_form()
            return True
        # Codes are only ever checked against the stored hash; a wrong one reveals nothing.
        self.t.say(_("Sorry, that code did not work. Please check it and try again."))
        if self.c.state in ("new", "language"):
            return False
        self._reprompt()
        return True

    def _join(self, code: str | list[str]) -> bool:
        """Link the person to their case with a single-use invitation code (or its hashes, kept while
        first contact finishes)."""
        t, c = self.t, self.c
        failures = int(t.data.get("code_failures", 0))
        if failures >= MAX_CODE_ATTEMPTS:
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

    # ------------------------------------------------------------------ first contact
    def new_state(self) -> None:
        """The very first message: emergency advice first, then the language menu."""
        t = self.t
        join = codes.join_code_in(t.text)
        if join:
            t.set_data(pending_code=codes.code_hashes(join))  # kept hashed, never in clear
        # The app's language setting, or the language the first message was written in.
        hint = resolve_language(t.inbound.language_hint) or t.detected_language
        for lang in dict.fromkeys(["en", hint or "en"]):
            with use_language(lang):
                t.say(
                    _("Hello. If you are in danger now, call {number}.").format(
                        number=isolate(t.helplines.emergency.number)
                    )
                )
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
        code = language_named(t.text)
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
