"""The menu and information in short plain messages; misunderstanding; offering a detected language."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.content import topics
from bot.dialogue.messages import Choice
from bot.dialogue.turn import Step, pick
from bot.dialogue.words import is_command
from bot.i18n import BY_CODE, _, isolate, use_language
from bot.storage.models import Contact, ContributionVersion
from bot.storage.outbox import enqueue

MAX_MISUNDERSTOOD = 3  # misunderstood messages in a row before a person is brought in


def menu_choices(*, has_saved: bool, linked: bool, contributes: bool = False) -> list[Choice]:
    """The main menu's options, in the current language."""
    # Giving an account, a portrait, a name or files, for those who chose to or have begun.
    contribute = [Choice("contribute", _("Your account, words about them, and files"))]
    return [
        Choice("review", _("What is a review?")),
        Choice("stages", _("The stages and how long it takes")),
        Choice("ways", _("Ways to take part")),
        Choice("advocate", _("Advocates")),
        Choice("privacy", _("Privacy and your information")),
        Choice("support", _("Support and helplines")),
        Choice("form", _("See or change your answers") if has_saved else _("Tell us how you want to take part")),
        *(contribute if contributes else []),
        Choice("person", _("Talk to a person") if linked else _("Ask us to contact you")),
        Choice("language", _("Change language")),
    ]


def menu_prompt() -> str:
    """The main menu's question: it reads right with buttons and with a numbered list alike."""
    return _("What would you like to do?")


def tell_handed_back(session: Session, contact: Contact, advocate_name: str | None, *, at_once: bool) -> None:
    """When an advocate hands a conversation back: tell the person what happens next.

    `advocate_name` is whoever held it (None if nobody had taken it yet). After a held conversation
    the menu follows, so the next message is understood as a choice; someone who never chose a
    language starts again from the greeting. Sent through the outbox like the advocate's own
    replies: `at_once` if they wrote recently, else at their safe times.
    """
    if contact.stopped:
        return
    recent = at_once
    has_saved = session.scalar(select(ContributionVersion.id).where(ContributionVersion.contact_id == contact.id))
    with use_language(contact.language):
        if advocate_name:
            text = _("Thank you for talking with {name}. I am the assistant, and I will help you again from here.")
            text = text.format(name=isolate(advocate_name))
        else:
            # Nobody had taken the conversation: the person may be in the middle of something.
            text = _("Thank you for waiting. Our team has read your messages, and I will help you from here.")
        text += " " + _("To reach a person again, send PERSON.")
        enqueue(session, contact, text, author="system", prompted=recent)
        if not advocate_name:
            return  # the bot was answering all along: they carry on where they are
        if contact.language is None:
            contact.state, contact.state_data = "new", {}
            return
        choices = menu_choices(has_saved=has_saved is not None, linked=contact.case_id is not None)
        contact.state = "menu"
        contact.state_data = {**contact.state_data, "q": None, "confirm_stop": False}
        enqueue(
            session,
            contact,
            menu_prompt(),
            author="system",
            prompted=recent,
            choices=[{"value": c.value, "label": c.label} for c in choices],
        )


class Menu(Step):
    """Where a person chooses what to read or do next."""

    def _menu_choices(self) -> list[Choice]:
        latest = self._latest_version()
        return menu_choices(
            has_saved=latest is not None,
            linked=self.c.case_id is not None,
            contributes=self.offers_contribution(latest),
        )

    def show_menu(self) -> None:
        """The main menu."""
        self.t.go("menu", q=None)
        self.t.say(menu_prompt(), self._menu_choices())

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
            t.say(_("Is there anything else?"), self._menu_choices())
            return
        if choice == "form":
            self.start_form()
        elif choice == "contribute":
            self.show_contribute()
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
        t.say(
            _("Sorry, I didn't understand. Please choose one of these, or ask your question in a few words."),
            self._menu_choices(),
        )
        if c.misunderstood == MAX_MISUNDERSTOOD - 1:
            t.say(_("If you prefer, send PERSON to talk to a person."))
