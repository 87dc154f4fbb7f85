"""When the NLU is unsure whether a message means danger, the bot asks directly, then acts on the answer.

Asked in the person's language: "Are you, or is anyone, in danger right now?" with Yes and No.
Yes is treated as an urgent message (emergency numbers and an urgent ticket); No gets a kind word and
the conversation carries on where it was; anything else is read as a new message.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.i18n import BY_CODE, _, isolate, use_language
from bot.nlu.base import Parse

if TYPE_CHECKING:
    from bot.dialogue.conversation import Conversation

ASKED = "danger_check_asked"


def _language(conv: Conversation, parse: Parse | None) -> str:
    """The person's language, or before they choose one, the language their message was written in."""
    if conv.c.language:
        return conv.c.language
    detected = parse.language if parse is not None else None
    return detected if detected in BY_CODE else "en"


def ask(conv: Conversation, parse: Parse) -> bool:
    """Ask whether anyone is in danger now, if the NLU says `check`; True when asked."""
    c = conv.c
    if parse.triage != "check" or c.human_holds or c.state == "new":
        # A person holding the conversation reads the message; a first message gets emergency advice anyway.
        return False
    conv.t.set_data(**{ASKED: True})
    with use_language(_language(conv, parse)):
        conv.t.say(_("Are you, or is anyone, in danger right now?"), conv._yes_no())
    return True


def answer(conv: Conversation, parse: Parse | None) -> bool:
    """Act on the reply to the danger question, if it was just asked; True when the reply is handled."""
    t = conv.t
    if not t.data.get(ASKED):
        return False
    t.set_data(**{ASKED: False})
    if conv.c.human_holds:
        return False  # a person took over meanwhile: they read the answer, the bot stays silent
    reply = conv._yes_or_no()
    if reply is None:
        return False  # not an answer: read it as a new message
    if reply == "yes":
        conv._urgent("safety_concern")
    else:
        with use_language(_language(conv, parse)):
            t.say(
                _(
                    "Thank you for telling me. If that changes, write to us at any time, or call {number} in an emergency."
                ).format(number=isolate(t.helplines.emergency.number))
            )
    conv._reprompt()
    return True
