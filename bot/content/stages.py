"""The five stages of a review, with one name each, used alike by families, chairs, updates and exports."""

from __future__ import annotations

from bot.i18n import N_

# Families read these in their own language; staff read the English source, so both say the same thing.
STAGES: tuple[str, ...] = (
    N_("Deciding to hold the review"),
    N_("Carrying out the review"),
    N_("Writing the report"),
    N_("Agreeing and signing off the report"),
    N_("Publishing and learning from the report"),
)

# What happens in each stage, as families are told it.
WHAT_HAPPENS: tuple[str, ...] = (
    N_("The local partnership decides to hold a review and lets the family know."),
    N_("The chair contacts you, explains everything and asks if and how you want to take part."),
    N_("The chair writes a report. You can read it and comment, and help choose the name used for your loved one."),
    N_("You see the final report before it is approved. The chair agrees the publication date with you."),
    N_("The report is published without real names, and services make changes."),
)
