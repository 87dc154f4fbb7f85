"""What the service tells families about a review, in short plain messages."""

from __future__ import annotations

from bot.content.helplines import Helplines
from bot.content.stages import STAGES, WHAT_HAPPENS
from bot.i18n import _, isolate


def about_service(helplines: Helplines) -> list[str]:
    """What this service is, and what it is not."""
    return [
        _(
            "This service helps families and friends take part in a review after a death. "
            "You can find out how a review works and tell us how you would like to take part."
        ),
        _("This is not an emergency service. If you are in danger now, call {number}.").format(
            number=isolate(helplines.emergency.number)
        )
        + " "
        + _(helplines.emergency.description),
    ]


def what_is_a_review() -> list[str]:
    """What a Domestic Homicide Review is, with both of its names."""
    return [
        _(
            "A Domestic Homicide Review looks at what happened before a death linked to domestic "
            'abuse. It is now also called a Domestic Abuse Related Death Review. We just say "the review".'
        ),
        _(
            "The review is not a police investigation or an inquest, and it does not blame anyone. "
            "It asks what services could have done differently, so that other deaths are prevented."
        ),
        _(
            "An independent chair leads it, with a panel of local services. "
            "Your voice can help the review understand who your loved one was."
        ),
    ]


def stages() -> list[str]:
    """The five stages of a review, and honest timescales: one short message each, for SMS."""
    return [
        _("A review has five stages:"),
        *(f"{n}. {_(name)}: {_(what)}" for n, (name, what) in enumerate(zip(STAGES, WHAT_HAPPENS, strict=True), 1)),
        _("Reviews often take a year or more. We will keep you updated, and you can ask us any time where things are."),
    ]


def ways_to_take_part() -> list[str]:
    """The ways a family member can take part; always a choice."""
    return [
        _("Taking part is always your choice. You can change your mind at any time."),
        _(
            "You could talk with the chair, write an account, send a voice note, or tell the review "
            "who your loved one was. You can help choose the questions the review asks, meet the panel, "
            "read the draft report, and help choose the name used in it."
        ),
        _("If you are not ready, that is okay. We can ask you again later."),
    ]


def advocates() -> list[str]:
    """The advocate's role and the right to one."""
    return [
        _(
            "You have the right to a free advocate. An advocate is a support worker on your side, not a lawyer. "
            "They explain each step, come to meetings with you, and make sure you are heard."
        ),
        _("Some advocates work for specialist services run by and for your community. You can ask for one."),
    ]


def privacy() -> list[str]:
    """Who sees what, anonymised publication, and the person's rights."""
    return [
        _(
            "What you tell us is kept private and protected. Only the people working on your review "
            "can see it, and only if you agree. Other family members never see what you tell us."
        ),
        _("The published report does not use real names. The family can help choose the name used for your loved one."),
        _('You can ask to see your information, change it, or delete it. Just write "delete my data".'),
    ]


def support(helplines: Helplines) -> list[str]:
    """Support services and helplines, from configuration."""
    # A few helplines per message, so that each stays short enough to read on a phone.
    lines = ["• " + h.render() for h in helplines.lines]
    chunks = ["\n".join(lines[i : i + 4]) for i in range(0, len(lines), 4)]
    return [
        _("You don't have to go through this alone. These services can help:"),
        *chunks,
        _("In an emergency, call {number}.").format(number=isolate(helplines.emergency.number)),
    ]


def emergency(helplines: Helplines, intent: str) -> str:
    """What to do right now when someone may be in danger."""
    topic = "self_harm" if intent == "self_harm_risk" else "safety"
    extra = "\n".join("• " + h.render() for h in helplines.for_topic(topic))
    return (
        _("Your safety matters most. If you are in danger now, call {number}.").format(
            number=isolate(helplines.emergency.number)
        )
        + " "
        + _(helplines.emergency.description)
        + "\n"
        + extra
        + "\n"
        + _("I have asked a person from our team to contact you as soon as they can.")
    )
