"""Invitation and resume codes: short, easy to type, hard to guess, stored only as keyed hashes."""

from __future__ import annotations

import re
import secrets

from bot.storage.crypto import cipher

# No 0/O, 1/I/L or U: codes are read aloud and typed on phones.
ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"
_CODE = re.compile(r"\b([A-Z0-9]{4})[-\s]?([A-Z0-9]{4})\b")
_JOIN = re.compile(r"^\s*(?:/start\s+|join\s*[:\-]?\s*)([A-Za-z0-9]{4})[-\s]?([A-Za-z0-9]{4})\s*$", re.I)
_RESUME = re.compile(r"^\s*resume\s*[:\-]?\s*([A-Za-z0-9]{4})[-\s]?([A-Za-z0-9]{4})\s*$", re.I)


def new_code() -> str:
    """A fresh code like K7MQ-2XPB (about 39 bits; attempts are limited)."""
    raw = "".join(secrets.choice(ALPHABET) for _ in range(8))
    return f"{raw[:4]}-{raw[4:]}"


def code_hash(code: str) -> str:
    """The keyed hash stored instead of a code."""
    return code_hashes(code)[0]


def code_hashes(code: str) -> list[str]:
    """The code's keyed hash under every configured key: a code issued before a key rotation still works."""
    return cipher().blind_indexes("code:" + re.sub(r"[^A-Z0-9]", "", code.upper()))


def join_code_in(text: str) -> str | None:
    """The invitation code in "JOIN K7MQ-2XPB" or a Telegram "/start K7MQ2XPB" deep link."""
    m = _JOIN.match(text)
    return f"{m.group(1)}-{m.group(2)}".upper() if m else None


def resume_code_in(text: str) -> str | None:
    """The private code in "RESUME K7MQ-2XPB"."""
    m = _RESUME.match(text)
    return f"{m.group(1)}-{m.group(2)}".upper() if m else None


def bare_code_in(text: str) -> str | None:
    """A code typed on its own, when the bot has just asked for one."""
    m = _CODE.fullmatch(text.strip().upper())
    return f"{m.group(1)}-{m.group(2)}" if m else None
