"""Taking personal details out of text we keep for ourselves (a provider's error can quote a number)."""

from __future__ import annotations

import re

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Seven digits or more, with the separators people and providers write: phone numbers, WhatsApp
# addresses, Telegram chat ids. Provider error codes (21211) and HTTP statuses are shorter and stay.
_PHONE = re.compile(r"(?:whatsapp:)?\+?\d(?:[\s().-]{0,2}\d){6,}")
_POSTCODE = re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]?\s*\d[ABD-HJLNP-UW-Z]{2}\b", re.IGNORECASE)
_STREET = re.compile(
    r"\b\d+[A-Za-z]?,?\s+(?:[A-Z][\w'-]*\s+){1,3}"
    r"(?:Road|Rd|Street|St|Avenue|Ave|Lane|Ln|Close|Drive|Dr|Way|Court|Ct|Place|Pl|Crescent|Gardens|Terrace|Grove|"
    r"Hill|Square|Mews|Row|Walk|Park)\b\.?"
)


def scrub_personal(text: str) -> str:
    """The text with phone numbers, chat ids, email and postal addresses replaced by what they were."""
    text = _EMAIL.sub("[email]", text)
    text = _STREET.sub("[address]", text)
    text = _POSTCODE.sub("[postcode]", text)
    return _PHONE.sub("[number]", text)
