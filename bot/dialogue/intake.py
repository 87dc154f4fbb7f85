"""The contribution form as a conversation: ask, read, re-ask kindly, pause, summarise, save versions."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from bot.dialogue import codes, form
from bot.dialogue.collect import COLLECT_STATES, Collect
from bot.dialogue.contributions import latest_version
from bot.dialogue.first_contact import code_lasts
from bot.dialogue.form import SKIPPED, Question
from bot.dialogue.messages import Choice
from bot.dialogue.reach import contact_detail_problem
from bot.dialogue.turn import ascii_digits, pick, pick_many
from bot.i18n import BY_CODE, _, format_day, isolate
from bot.storage.models import Contact, ContributionVersion


class Intake(Collect):
    """How a person tells the review how they want to take part."""

    def _latest_version(self) -> ContributionVersion | None:
        return latest_version(self.t.session, self.c.id)

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
        paused_in = self.t.data.get("paused_collect")
        if paused_in:
            self.t.set_data(paused_collect=None)
            if paused_in == "list":
                self.show_contribute()
            else:
                self.start_collecting(paused_in)
            return
        if self.c.state in COLLECT_STATES:
            self.reprompt_collecting()
            return
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
        problem = contact_detail_problem(q.key, value)
        if problem is not None:
            t.say(problem)
            self.ask(q)
            return
        if q.kind == "many" and isinstance(value, list):
            # Say back what the numbers meant: "1 4 7" alone is easy to get wrong.
            t.say(_("You chose: {choices}.").format(choices=self._answer_text(q, value)))
        draft = dict(c.draft or {})
        draft[q.key] = value
        c.draft = form.cleaned(draft) | {k: v for k, v in draft.items() if k == q.key}
        if q.key == form.WAYS and value == [form.WAY_NO_PART]:
            t.say(
                _(
                    "Thank you for telling us. That is completely okay. Taking part is always your choice, and you can change your mind at any time."
                )
            )
        if q.key == form.KEEP_INFORMED:
            self._save_not_taking_part()
            return
        if q.key == form.DISCREET_WORDING and value in (form.ANSWER_YES, form.ANSWER_NO):
            c.discreet = value == form.ANSWER_YES
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
                "Sorry, I didn't catch that. Please choose one of the options, or type a date in the future like 25/03/2027."
            )
        return _("Sorry, I didn't catch that. Please choose one of the options, or send SKIP.")

    def _pause(self) -> None:
        """Keep every answer and give a private code to carry on later, on any channel."""
        code = codes.give_resume_code(self.c, self.t.code_policy, self.t.inbound.received_at)
        if self.c.state in COLLECT_STATES:
            # Writing or sending resumes where it was; anywhere else, at the list of things to give.
            writing = self.c.state in ("collect", "readback")
            self.t.go("paused", paused_collect=self._kind() if writing else "list")
            self.t.say(
                _(
                    "What you sent so far is kept. To carry on later, here or on another app, send: {code}. Please keep this code private."
                ).format(code=isolate("RESUME " + code))
            )
            self.t.say(code_lasts(self.t.code_policy.resume_lasts.days))
            return
        self.t.go("paused", paused_collect=None)
        self.t.say(
            _(
                "Your answers so far are saved. To carry on later, here or on another app, send: {code}. Please keep this code private."
            ).format(code=isolate("RESUME " + code))
        )
        self.t.say(code_lasts(self.t.code_policy.resume_lasts.days))

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
            _("Which answer would you like to change?"),
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

    def _store_version(self, answers: form.Answers) -> None:
        """Add a version of the form's answers; older versions are kept."""
        t, c = self.t, self.c
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

    def _save_not_taking_part(self) -> None:
        """Someone who does not want to take part: the form stops, and their choice about updates is kept."""
        t, c = self.t, self.c
        answers = form.cleaned(dict(c.draft or {}))
        latest = self._latest_version()
        if latest is None or latest.answers != answers:
            self._store_version(answers)
        if answers.get(form.KEEP_INFORMED) == form.ANSWER_YES:
            t.say(_("We will let you know how the review is going, here. Take care of yourself."))
        else:
            t.say(_("We will not send you updates. If you change your mind, write to us any time. Take care."))
        c.draft = None
        self._code_after_saving()
        self.show_menu()

    def _save(self) -> None:
        """Save a new version, unless nothing changed; older versions are kept."""
        t, c = self.t, self.c
        answers = form.cleaned(dict(c.draft or {}))
        latest = self._latest_version()
        if latest is not None and latest.answers == answers:
            t.say(_("Nothing has changed. Your answers are already saved."))
        else:
            self._store_version(answers)
            before = latest.answers if latest is not None else {}
            if latest is None:
                t.say(_("Thank you. Your answers are saved. You can change them at any time from the menu."))
            else:
                t.say(_("Thank you. Your changes are saved."))
            # Each notice once: when it first applies, or when the answer behind it changed.
            if latest is None or before.get(form.CONSENT_SHARE_CHAIR) != answers.get(form.CONSENT_SHARE_CHAIR):
                if answers.get(form.CONSENT_SHARE_CHAIR) == form.ANSWER_YES:
                    t.say(_("The review's chair will see what you told us. Nobody else in your family will."))
                else:
                    t.say(
                        _(
                            "We will not share your answers with the chair unless you say yes. Nobody else in your family will see them."
                        )
                    )
            if (
                answers.get(form.WANTS_ADVOCATE) == form.ANSWER_YES
                and before.get(form.WANTS_ADVOCATE) != form.ANSWER_YES
            ):
                self.to_a_person("advocate_requested")
        c.draft = None
        self._code_after_saving()
        if not self.offer_to_collect(answers):
            self.show_menu()


def c_lang_name(contact: Contact) -> str:
    """The native name of a person's chat language."""
    return BY_CODE[contact.language or "en"].native_name
