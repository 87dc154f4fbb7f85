"""Plain words for the codes the service stores, so staff never have to read `safety_concern` or `raised_urgent`."""

from __future__ import annotations

from handoff.i18n import t

# Why a ticket was opened (Ticket.reason: an NLU intent or a menu choice).
REASONS = {
    "self_harm_risk": t("May be thinking of harming themselves"),
    "safety_concern": t("May be in danger"),
    "check": t("Said yes when asked whether anyone is in danger now"),
    "requested": t("Asked to talk to a person"),
    "request_advocate": t("Asked to talk to a person"),
    "advocate_requested": t("Asked for an advocate in the form"),
    "distress": t("Is upset and asked for support"),
    "express_distress": t("Is upset"),
    "share_information": t("Wants to tell the review something"),
    "complaint": t("Has a complaint"),
    "interpreter": t("Needs an interpreter"),
    "delete_request": t("Asked us to delete their information"),
    "delete_my_data": t("Asked us to delete their information"),
    "misunderstood": t("The assistant could not understand them"),
    "media": t("Sent a voice note, photo or document"),
}

# What happened to a ticket (TicketEvent.kind).
EVENTS = {
    "opened": t("Opened"),
    "raised_urgent": t("Became urgent"),
    "taken": t("Taken"),
    "reply": t("Replied"),
    "note": t("Private note"),
    "handed_back": t("Handed back to the assistant"),
    "closed": t("Closed"),
    "transferred": t("Transferred"),
    "escalated": t("Escalated: nobody took it in time"),
    "linked": t("Linked to a case"),
}

STATUSES = {
    "waiting": t("Waiting to be taken"),
    "active": t("Held by an advocate"),
    "returned": t("Handed back to the assistant"),
    "closed": t("Closed"),
}

PRIORITIES = {"urgent": t("Urgent"), "normal": t("Normal")}

# Who wrote a message (Message.author).
AUTHORS = {
    "family": t("Family member"),
    "bot": t("Assistant"),
    "advocate": t("Advocate"),
    "system": t("Update"),
}


def reason(code: str) -> str:
    """A ticket's reason in plain words (the code itself if it is new to us)."""
    return REASONS.get(code, code.replace("_", " "))


def plain(table: dict[str, str], code: str) -> str:
    """Any stored code in plain words."""
    return table.get(code, code.replace("_", " "))
