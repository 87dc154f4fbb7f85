"""Per-case exports for the overview report (CSV and a PDF summary), honouring each person's consent."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from fpdf import FPDF
from sqlalchemy.orm import Session

from bot.content.stages import STAGES
from bot.storage.models import Case, utcnow
from handoff.chair import CONTACT_KEYS, NEEDS_KEYS, NOT_ANSWERED, Given, question_label, registrants
from handoff.i18n import t

FONT_DIRS = (Path("/usr/share/fonts/truetype/noto"), Path("/usr/share/fonts/truetype/dejavu"))
# The main font, then fallbacks for the scripts families write in (Noto, from Debian's fonts-noto-core).
MAIN_FONTS = ("NotoSans-Regular.ttf", "DejaVuSans.ttf")
FALLBACK_FONTS = (
    "NotoSansArabic-Regular.ttf",
    "NotoSansBengali-Regular.ttf",
    "NotoSansGujarati-Regular.ttf",
    "NotoSansDevanagari-Regular.ttf",
    "NotoSansGurmukhi-Regular.ttf",
)

# Government Security Classifications: what families tell a review is personal and sensitive.
SENSITIVITY = t("OFFICIAL-SENSITIVE: personal information from bereaved families. Do not share beyond the review.")
FIXED_COLUMNS = (
    "person", "invited_as", "relationship", "relationship_detail", "latest_version", "ways",
    "shares_with_chair", "consent_quote", "consent_name",
)  # fmt: skip
ANSWER_COLUMNS = (*CONTACT_KEYS, *NEEDS_KEYS)
LAST_COLUMNS = ("questions", "attachments", "given", "consent_withdrawn")
CSV_COLUMNS = (*FIXED_COLUMNS, *ANSWER_COLUMNS, *LAST_COLUMNS)


def case_csv(session: Session, case: Case) -> str:
    """One row per person under a sensitivity marking; their answers only where they agreed to share them.

    Blank answers read "not answered"; answers the person did not share read "not shared".
    """
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([SENSITIVITY])
    writer.writerow(CSV_COLUMNS)
    for p in registrants(session, case):
        version = p.versions[-1].number if p.versions else ""
        withdrawn = "; ".join(c.label for v in p.versions for c in v.changes if c.withdrawn)
        if p.shares_with_chair:
            grouped = {label: value for label, value in p.preferences}
            answers = [
                p.relationship, p.relationship_detail or NOT_ANSWERED, version, p.ways, "yes",
                p.consent_quote, p.consent_name,
                *(grouped.get(question_label(key), NOT_ANSWERED) for key in ANSWER_COLUMNS),
                p.questions or NOT_ANSWERED, len(p.attachments), _given_text(p.given), withdrawn,
            ]  # fmt: skip
        else:
            hidden = t("not shared")
            answers = [hidden, hidden, version, hidden, "no", hidden, hidden, *(hidden for _ in ANSWER_COLUMNS)]
            # What they gave with its own consent to the chair reading it is still theirs to share.
            answers += [hidden, len(p.attachments), _given_text(p.given), withdrawn]
        writer.writerow([csv_safe(str(cell)) for cell in (p.label, p.invitation_note, *answers)])
    return out.getvalue()


def _given_lines(given: list[Given]) -> list[str]:
    """Each piece the chair may read, with what it may be used for, then its words."""
    lines = []
    for g in given:
        uses = "; ".join(
            [
                t("version {n}").format(n=g.version),
                t("may be quoted in the report") if g.may_quote else t("not to be quoted"),
                t("may be shared with the panel") if g.may_share_with_panel else t("not for the panel"),
            ]
        )
        lines.append(f"{g.label} ({uses})" + (f": {g.text}" if g.text else ""))
    return lines


def _given_text(given: list[Given]) -> str:
    return "\n\n".join(_given_lines(given))


def csv_safe(value: str) -> str:
    """Stop a spreadsheet running text as a formula: any cell starting = + - @, a tab or a CR is quoted."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _font_path(name: str) -> Path | None:
    return next((d / name for d in FONT_DIRS if (d / name).exists()), None)


def _can_shape() -> bool:
    try:
        import uharfbuzz  # noqa: F401
    except ImportError:
        return False
    return True


def unicode_pdf() -> FPDF:
    """A blank document whose font "main" writes every script families use (with fallbacks and shaping)."""
    pdf = FPDF()
    main = next((p for p in map(_font_path, MAIN_FONTS) if p), None)
    if main is None:
        raise RuntimeError("no Unicode font found: install fonts-noto-core (make browser-deps)")
    pdf.add_font("main", fname=str(main))
    fallbacks = []
    for i, name in enumerate(FALLBACK_FONTS):
        path = _font_path(name)
        if path:
            pdf.add_font(f"fb{i}", fname=str(path))
            fallbacks.append(f"fb{i}")
    pdf.set_fallback_fonts(fallbacks)
    if _can_shape():
        # Arabic-script languages need joining and right-to-left order; Indic scripts need conjuncts.
        pdf.set_text_shaping(True)
    pdf.set_auto_page_break(True, margin=18)
    return pdf


def case_pdf(session: Session, case: Case) -> bytes:
    """A summary for the overview report, in a Unicode font."""
    pdf = unicode_pdf()
    pdf.add_page()
    pdf.set_font("main", size=9)
    pdf.multi_cell(0, 5, SENSITIVITY, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("main", size=16)
    pdf.multi_cell(
        0,
        9,
        t("Review {reference}: contributions summary").format(reference=case.reference),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.set_font("main", size=10)
    pdf.multi_cell(
        0, 6, t("Name chosen for the person: {label}").format(label=case.person_label), new_x="LMARGIN", new_y="NEXT"
    )
    pdf.multi_cell(
        0,
        6,
        t("Stage {n} of 5: {name}").format(n=case.stage, name=STAGES[case.stage - 1]),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.multi_cell(
        0,
        6,
        t("Produced {when}. Only what each person agreed to share with the chair is included.").format(
            when=utcnow().strftime("%Y-%m-%d %H:%M UTC")
        ),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    for p in registrants(session, case):
        pdf.ln(4)
        for v in p.versions:
            for change in v.changes:
                if change.withdrawn:
                    pdf.set_font("main", size=10)
                    pdf.multi_cell(
                        0,
                        6,
                        t("{person}: consent withdrawn on {when}: {what}").format(
                            person=p.label, when=v.created_at.strftime("%Y-%m-%d"), what=change.label
                        ),
                        new_x="LMARGIN",
                        new_y="NEXT",
                    )
        pdf.set_font("main", size=13)
        if not p.shares_with_chair:
            pdf.multi_cell(0, 7, p.label, new_x="LMARGIN", new_y="NEXT")
            pdf.set_font("main", size=10)
            pdf.multi_cell(
                0,
                6,
                t("This person has not agreed to share their answers with the chair."),
                new_x="LMARGIN",
                new_y="NEXT",
            )
            _pdf_given(pdf, p.given)
            continue
        pdf.multi_cell(
            0, 7, f"{p.label}: {p.relationship} {p.relationship_detail}".strip(), new_x="LMARGIN", new_y="NEXT"
        )
        pdf.set_font("main", size=10)
        lines = [
            (t("How they want to take part"), p.ways),
            (t("Shares with the chair"), t("yes") if p.shares_with_chair else t("no")),
            (t("Report may quote their words"), p.consent_quote),
            (t("Name may be used"), p.consent_name),
            (t("Versions"), str(len(p.versions))),
            *p.preferences,
            (t("Questions for the review"), p.questions or NOT_ANSWERED),
            (t("Voice notes and documents"), str(len(p.attachments))),
        ]
        for label, value in lines:
            pdf.multi_cell(0, 6, f"{label}: {value}", new_x="LMARGIN", new_y="NEXT")
        _pdf_given(pdf, p.given)
    return bytes(pdf.output())


def _pdf_given(pdf: FPDF, given: list[Given]) -> None:
    """What the person gave the review that the chair may read, each with its uses."""
    if not given:
        return
    pdf.set_font("main", size=11)
    pdf.multi_cell(0, 7, t("Given to the review"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("main", size=10)
    for line in _given_lines(given):
        pdf.multi_cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
