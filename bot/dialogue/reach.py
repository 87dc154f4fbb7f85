"""Keeping in touch when the conversation lives only in a browser: a return code, and a safe way to reach them.

A web chat session ends when the browser closes. Someone who asks for a person (or sends an urgent
message), or who leaves answers the review will come back to, is given their private RESUME code at
once, and offered, with their consent, another way to be reached and when. A returning person sees
what our team sent them while they were away.
"""

from __future__ import annotations

import re

from sqlalchemy import func, select

from bot.channels.registry import channel
from bot.dialogue import codes, form
from bot.dialogue.collect import COLLECT_STATES
from bot.dialogue.messages import Choice
from bot.dialogue.turn import Step, pick, pick_many
from bot.i18n import _, isolate
from bot.storage.models import Message, Ticket, TicketEvent
from handoff.queue import OPEN_STATUSES

REPLAY_LIMIT = 10  # messages from our team shown to someone coming back
_PHONE = re.compile(r"^\+?[\d\s().\-]{7,20}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# Ticket event kind shown to the advocate with the way to reach the person (kept encrypted).
REACH_EVENT = "safe contact"


def contact_detail_problem(key: str, value: object) -> str | None:
    """A kind re-ask when an answer to a contact-details question is not a number or address."""
    if not isinstance(value, str) or value == form.SKIPPED:
        return None
    if key == "contact_phone" and not _PHONE.match(value.strip()):
        return _("Sorry, that does not look like a phone number. Please type it again, or send SKIP.")
    if key == "contact_email" and not _EMAIL.match(value.strip()):
        return _("Sorry, that does not look like an email address. Please type it again, or send SKIP.")
    return None


class Reach(Step):
    """Return codes and a consented second way to reach someone on the web chat."""

    def _on_ephemeral_channel(self) -> bool:
        return channel(self.t.inbound.channel).ephemeral

    # ------------------------------------------------------------------ the return code
    def _give_return_code(self, *, for_reply: bool) -> None:
        """A private RESUME code, said once, and plainly what it is for (a new one replaces the old)."""
        t, c = self.t, self.c
        if not self._on_ephemeral_channel():
            return
        if c.resume_code_hash is not None and t.data.get("return_code_given"):
            return  # they already have one from this chat
        code = codes.give_resume_code(c, t.code_policy, t.inbound.received_at)
        t.set_data(return_code_given=True)
        shown = isolate("RESUME " + code)
        if for_reply:
            t.say(
                _(
                    "This chat ends when you close your browser. To see our reply later, open this page again and send your private return code: {code}\nIt also works on our other apps. Please keep it private: anyone with it can read this conversation."
                ).format(code=shown)
            )
        else:
            t.say(
                _(
                    "The review may answer you here later. To come back, open this page again and send your private return code: {code}\nPlease keep it private: anyone with it can read this conversation."
                ).format(code=shown)
            )

    def _code_after_saving(self) -> None:
        """Saved answers: a PAUSE code is no longer needed, but on the web chat it is the way back."""
        if self._on_ephemeral_channel():
            self._give_return_code(for_reply=False)
        else:
            self.c.resume_code_hash = None
            self.c.resume_code_expires_at = None

    def _keep_in_touch(self, *, ask_now: bool) -> None:
        """After a request for a person: the return code, then the offer of a safe way to reach them.

        With `ask_now` false the offer becomes the current question and is asked by the caller's
        reprompt (after an urgent message)."""
        if not self._on_ephemeral_channel():
            return
        self._give_return_code(for_reply=True)
        t, c = self.t, self.c
        if c.state in ("new", "language", "summary") or c.state.startswith("reach_") or t.data.get("reach_offered"):
            return
        if c.state in COLLECT_STATES:
            return  # writing an account: their next words belong to it, not to an offer
        t.set_data(reach_offered=True, reach_back=c.state, reach_back_q=t.data.get("q"))
        t.go("reach_offer")
        if ask_now:
            self.ask_reach_offer()

    # ------------------------------------------------------------------ a second way to reach them
    def _reach_choices(self) -> list[Choice]:
        return [
            Choice("phone", _("A phone call")),
            Choice("sms", _("A text message")),
            Choice("email", _("Email")),
            Choice("no", _("No, I will come back here")),
        ]

    def ask_reach_offer(self) -> None:
        """Ask, never press, whether another way to reach them is safe."""
        self.t.say(
            _(
                "Would you like to give us another safe way to reach you, so you do not have to come back here? Only our team will see it."
            ),
            self._reach_choices(),
        )

    def reach_offer_state(self) -> None:
        t = self.t
        how = pick(t.text, self._reach_choices()) or ("no" if self._yes_or_no() == "no" or t.is_word("skip") else None)
        if how is None:
            self._sorry()
            self.ask_reach_offer()
        elif how == "no":
            t.say(_("That's fine. Open this page any time and send your return code to see our reply."))
            self._reach_done()
        else:
            t.go("reach_detail", reach_how=how)
            self._ask_reach_detail(how)

    def _ask_reach_detail(self, how: str) -> None:
        if how == "email":
            self.t.say(_("What email address should we use?"))
        else:
            self.t.say(_("What phone number should we use?"))

    def reach_detail_state(self) -> None:
        t = self.t
        how = str(t.data.get("reach_how") or "phone")
        if t.is_word("skip") or t.is_word("back"):
            self._reach_done()
            return
        ok = _EMAIL.match(t.text) if how == "email" else _PHONE.match(t.text)
        if not ok:
            if how == "email":
                t.say(_("Sorry, that does not look like an email address. Please type it again, or send SKIP."))
            else:
                t.say(_("Sorry, that does not look like a phone number. Please type it again, or send SKIP."))
            return
        # The number or address goes straight into the ticket (encrypted), never into state_data.
        labels = {c.value: c.label for c in self._reach_choices()}
        self._note_on_ticket(f"{labels[how]}: {t.text}")
        t.go("reach_when", reach_how=None)
        self._ask_reach_when()

    def _ask_reach_when(self) -> None:
        q = form.BY_KEY["safe_times"]
        self.t.say(_(q.prompt), [Choice(o.value, _(o.label)) for o in q.options], many=True)

    def reach_when_state(self) -> None:
        t = self.t
        q = form.BY_KEY["safe_times"]
        options = [Choice(o.value, _(o.label)) for o in q.options]
        if t.is_word("skip"):
            picked: list[str] | None = []
        else:
            picked = pick_many(t.text, options)
        if picked is None:
            t.say(
                _(
                    "Sorry, I didn't catch that. Please send the numbers of your choices, like: 1 3. You can also send SKIP."
                )
            )
            self._ask_reach_when()
            return
        if picked:
            labels = {o.value: o.label for o in options}
            self._note_on_ticket(", ".join(labels[v] for v in picked))
        t.say(_("Thank you. Only our team will use this, to contact you at the times you chose."))
        self._reach_done()

    def _reach_done(self) -> None:
        """Back to where the person was before we asked."""
        t = self.t
        back, back_q = t.data.get("reach_back") or "menu", t.data.get("reach_back_q")
        t.go(back, q=back_q, reach_back=None, reach_back_q=None, reach_how=None)
        self._reprompt()

    def _note_on_ticket(self, text: str) -> None:
        """What the person gave us to reach them, for the advocate handling their request."""
        ticket = self.t.session.scalars(
            select(Ticket)
            .where(Ticket.contact_id == self.c.id, Ticket.status.in_(OPEN_STATUSES))
            .order_by(Ticket.id.desc())
        ).first()
        if ticket is not None:
            self.t.session.add(TicketEvent(ticket_id=ticket.id, kind=REACH_EVENT, note=text))

    # ------------------------------------------------------------------ coming back
    def _messages_while_away(self) -> None:
        """Their own code on a new browser or app: what our team sent since they last wrote."""
        t, c = self.t, self.c
        last_in = t.session.scalar(
            select(func.max(Message.id)).where(Message.contact_id == c.id, Message.direction == "in")
        )
        from_team = t.session.scalars(
            select(Message)
            .where(
                Message.contact_id == c.id,
                Message.direction == "out",
                Message.id > (last_in or 0),
                # an advocate's replies, and updates a chair sent (not the bot's own words)
                (Message.author == "advocate") | ((Message.author == "system") & Message.staff_id.is_not(None)),
            )
            .order_by(Message.id.desc())
            .limit(REPLAY_LIMIT)
        ).all()
        if from_team:
            t.say(_("Here is what our team sent you while you were away:"))
            for message in reversed(from_team):
                t.say(message.body)

    def _resumed_while_held(self) -> bool:
        """A correct code while a person from our team holds the conversation: show their messages; the
        bot says nothing else."""
        resume = codes.resume_code_in(self.t.text)
        if resume is None or self.c.resume_code_hash not in codes.code_hashes(resume):
            return False
        self._messages_while_away()
        self.t.say(_("Welcome back. A person from our team is looking after your conversation and will reply here."))
        return True
