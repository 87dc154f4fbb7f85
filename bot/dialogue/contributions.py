"""What a person gives the review: the form's latest answers, and accounts, portraits, names and files.

Every piece is versioned (a change, a withdrawal or new consents add a version) and carries its own
consent for each use. Staff code decides what it may show from `latest_pieces` alone.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from bot.dialogue import form
from bot.storage.models import Attachment, Contact, ContributionPiece, ContributionVersion, Message

# The kinds of piece collected in the chat (questions for the review stay a form answer).
ACCOUNT, PORTRAIT, NAME, FILE = "account", "portrait", "name", "file"
TEXT_KINDS = (ACCOUNT, PORTRAIT, NAME)
# The uses a person consents to, one by one, for each piece.
USE_CHAIR, USE_QUOTE, USE_PANEL = "chair", "quote", "panel"
USES = (USE_CHAIR, USE_QUOTE, USE_PANEL)
# The ways of taking part (form answers) that the chat itself can collect.
COLLECTED_WAYS = {form.WAY_WRITTEN: ACCOUNT, form.WAY_PORTRAIT: PORTRAIT, form.WAY_NAME: NAME, form.WAY_VOICE: FILE}

# Files a family member may send: voice notes, photos and documents. Twilio passes at most 16 MB
# per item, so one limit for every channel keeps the promise the same everywhere.
MAX_FILE_BYTES = 16 * 1024 * 1024
ACCEPTED_TYPES = frozenset(
    {
        "audio/ogg", "audio/mpeg", "audio/mp4", "audio/aac", "audio/amr", "audio/wav", "audio/x-wav",
        "audio/webm", "audio/x-m4a", "audio/3gpp", "audio/opus",
        "image/jpeg", "image/png", "image/gif", "image/webp", "image/heic", "image/heif",
        "application/pdf", "text/plain", "application/rtf",
        "application/msword", "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.oasis.opendocument.text",
    }
)  # fmt: skip


def file_refused(content_type: str, size: int) -> str | None:
    """Why a file cannot be kept ("type" or "size"), or None if it can."""
    if content_type.split(";")[0].strip().lower() not in ACCEPTED_TYPES:
        return "type"
    if size > MAX_FILE_BYTES:
        return "size"
    return None


def file_family(content_type: str) -> str:
    """What a family member would call a file: a voice note, a photo or a document."""
    if content_type.startswith("audio/"):
        return "voice"
    if content_type.startswith("image/"):
        return "photo"
    return "document"


def stored_size(attachment: Attachment) -> int:
    """The size in bytes of a stored file, from its base64 length (without decoding it)."""
    data = attachment.data
    return len(data) * 3 // 4 - data[-2:].count("=") if data else 0


# ---------------------------------------------------------------------- the form's answers
def latest_version(session: Session, contact_id: int) -> ContributionVersion | None:
    """The person's latest confirmed answers to the form, or None if they never confirmed any."""
    return session.scalars(
        select(ContributionVersion)
        .where(ContributionVersion.contact_id == contact_id)
        .order_by(ContributionVersion.version.desc())
        .limit(1)
    ).first()


def latest_versions() -> Select[ContributionVersion]:
    """Everyone's latest confirmed answers, one row per person (narrow it with .where)."""
    newest = (
        select(ContributionVersion.contact_id, func.max(ContributionVersion.version).label("version"))
        .group_by(ContributionVersion.contact_id)
        .subquery()
    )
    return select(ContributionVersion).join(
        newest,
        (ContributionVersion.contact_id == newest.c.contact_id) & (ContributionVersion.version == newest.c.version),
    )


# ---------------------------------------------------------------------- pieces
@dataclass(frozen=True)
class Consents:
    """What a person agreed a piece may be used for."""

    chair: bool = False
    quote: bool = False
    panel: bool = False

    @classmethod
    def of(cls, piece: ContributionPiece) -> Consents:
        """The consents a stored version carries."""
        return cls(piece.consent_chair, piece.consent_quote, piece.consent_panel)

    def allows(self, use: str) -> bool:
        """Whether this use was agreed to."""
        return bool(getattr(self, use))


def latest_pieces(session: Session, contact_ids: Iterable[int]) -> list[ContributionPiece]:
    """The latest version of every piece these people gave, withdrawn ones included, oldest piece first."""
    ids = list(contact_ids)
    if not ids:
        return []
    newest = (
        select(
            ContributionPiece.contact_id,
            ContributionPiece.piece,
            func.max(ContributionPiece.version).label("version"),
        )
        .where(ContributionPiece.contact_id.in_(ids))
        .group_by(ContributionPiece.contact_id, ContributionPiece.piece)
        .subquery()
    )
    return list(
        session.scalars(
            select(ContributionPiece)
            .join(
                newest,
                (ContributionPiece.contact_id == newest.c.contact_id)
                & (ContributionPiece.piece == newest.c.piece)
                & (ContributionPiece.version == newest.c.version),
            )
            .order_by(ContributionPiece.contact_id, ContributionPiece.id)
        )
    )


def current_pieces(session: Session, contact_id: int) -> dict[str, ContributionPiece]:
    """A person's pieces that stand now (not withdrawn), by piece key."""
    return {p.piece: p for p in latest_pieces(session, [contact_id]) if not p.withdrawn}


def piece_history(session: Session, contact_id: int, piece: str) -> list[ContributionPiece]:
    """Every version of one piece, oldest first."""
    return list(
        session.scalars(
            select(ContributionPiece)
            .where(ContributionPiece.contact_id == contact_id, ContributionPiece.piece == piece)
            .order_by(ContributionPiece.version)
        )
    )


def file_piece_key(attachment_id: int) -> str:
    """The key all versions of one file share."""
    return f"{FILE}-{attachment_id}"


def save_piece(
    session: Session,
    contact: Contact,
    *,
    kind: str,
    piece: str,
    channel: str,
    text: str | None = None,
    attachment_id: int | None = None,
    consents: Consents = Consents(),
    withdrawn: bool = False,
) -> ContributionPiece:
    """Add a version of a piece; earlier versions are kept as they were."""
    number = (
        session.scalar(
            select(func.max(ContributionPiece.version)).where(
                ContributionPiece.contact_id == contact.id, ContributionPiece.piece == piece
            )
        )
        or 0
    ) + 1
    row = ContributionPiece(
        contact_id=contact.id,
        case_id=contact.case_id,
        kind=kind,
        piece=piece,
        version=number,
        text=None if withdrawn else text,
        attachment_id=attachment_id,
        consent_chair=consents.chair and not withdrawn,
        consent_quote=consents.quote and not withdrawn,
        consent_panel=consents.panel and not withdrawn,
        withdrawn=withdrawn,
        channel=channel,
    )
    session.add(row)
    session.flush()
    return row


def files_of_latest_message(session: Session, contact_id: int) -> list[Attachment]:
    """The files that came with the message being answered (stored by the engine just before)."""
    latest_in = select(func.max(Message.id)).where(Message.contact_id == contact_id, Message.direction == "in")
    return list(
        session.scalars(
            select(Attachment)
            .where(Attachment.contact_id == contact_id, Attachment.message_id == latest_in.scalar_subquery())
            .order_by(Attachment.id)
        )
    )


def discard_unsaved_files(session: Session, contact_id: int, attachment_ids: Iterable[int]) -> None:
    """Delete files a person sent and then chose not to give (nothing refers to them)."""
    ids = list(attachment_ids)
    if not ids:
        return
    kept = set(session.scalars(select(ContributionPiece.attachment_id).where(ContributionPiece.attachment_id.in_(ids))))
    for attachment in session.scalars(
        select(Attachment).where(Attachment.contact_id == contact_id, Attachment.id.in_(ids))
    ):
        if attachment.id not in kept:
            session.delete(attachment)
