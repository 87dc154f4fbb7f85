"""Languages and translation: every family-facing word goes through gettext in the person's language."""

from __future__ import annotations

import gettext as _gettext
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.support import Translations

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
DOMAIN = "messages"


@dataclass(frozen=True)
class Language:
    """A language families can use, with its name in itself and its writing direction."""

    code: str
    native_name: str
    english_name: str
    rtl: bool = False
    babel_code: str = ""  # the CLDR locale used for dates and plurals, when it differs from code

    @property
    def locale(self) -> Locale:
        """Babel's locale, with the script made explicit where a language is written in several."""
        return Locale.parse(self.babel_code or self.code)


LANGUAGES: tuple[Language, ...] = (
    Language("en", "English", "English", babel_code="en_GB"),
    # Welsh next to English: the service covers Wales, where the two are official side by side and
    # the Welsh Language Standards ask that Welsh is not treated less favourably than English.
    Language("cy", "Cymraeg", "Welsh", babel_code="cy_GB"),
    Language("ur", "اردو", "Urdu", rtl=True),
    Language("pa", "ਪੰਜਾਬੀ", "Punjabi (Gurmukhi)", babel_code="pa_Guru"),
    Language("bn", "বাংলা", "Bengali"),
    Language("gu", "ગુજરાતી", "Gujarati"),
    Language("hi", "हिन्दी", "Hindi"),
    Language("ar", "العربية", "Arabic", rtl=True),
    Language("fa", "فارسی", "Farsi", rtl=True),
    Language("ckb", "کوردی سۆرانی", "Kurdish (Sorani)", rtl=True),
    Language("tr", "Türkçe", "Turkish"),
    Language("so", "Soomaali", "Somali"),
    Language("es", "Español", "Spanish"),
    Language("pt", "Português", "Portuguese"),
    Language("pl", "Polski", "Polish"),
    Language("ro", "Română", "Romanian"),
    Language("fr", "Français", "French"),
)
BY_CODE = {lang.code: lang for lang in LANGUAGES}
DEFAULT_LANGUAGE = "en"

# Codes people or providers send that name a required language with a script or region.
# Babel's own negotiation ignores scripts, so pa-Arab (Shahmukhi) must not become Gurmukhi.
_ALIASES = {
    "pa_guru": "pa",
    "pa_in": "pa",
    "pa_guru_in": "pa",
    "ku": "ckb",
    "ckb_iq": "ckb",
    "ckb_arab": "ckb",
    "ku_arab": "ckb",
    "per": "fa",
    "fa_ir": "fa",
    "prs": "fa",
}


class CatalogMissing(RuntimeError):
    """A required language has no compiled catalog: refuse rather than silently show English."""


def resolve_language(code: str | None) -> str | None:
    """The required language a code names (en-GB, pa_Guru, ckb-IQ...), or None if it names none."""
    if not code:
        return None
    norm = code.strip().replace("-", "_").lower()
    if norm in _ALIASES:
        return _ALIASES[norm]
    if norm in BY_CODE:
        return norm
    parts = norm.split("_")
    if len(parts) > 1 and len(parts[1]) == 4 and parts[0] in BY_CODE:
        # A script was named: accept it only if it is the script we write the language in.
        script = parts[1].title()
        ours = Locale.parse(BY_CODE[parts[0]].babel_code or parts[0]).script
        expected = ours or _DEFAULT_SCRIPT.get(parts[0])
        return parts[0] if script == expected else None
    return parts[0] if parts[0] in BY_CODE else None


# Scripts CLDR does not spell out for the locales we use.
_DEFAULT_SCRIPT = {
    "ur": "Arab", "ar": "Arab", "fa": "Arab", "ckb": "Arab", "bn": "Beng", "gu": "Gujr",
    "hi": "Deva", "en": "Latn", "tr": "Latn", "so": "Latn", "es": "Latn", "pt": "Latn",
    "pl": "Latn", "ro": "Latn", "fr": "Latn", "pa": "Guru", "cy": "Latn",
}  # fmt: skip


@lru_cache(maxsize=64)
def translations(code: str, domain: str = DOMAIN) -> _gettext.NullTranslations:
    """The compiled catalog for a required language; fails loudly if it is missing."""
    if code not in BY_CODE:
        raise CatalogMissing(f"{code!r} is not a supported language")
    if code == DEFAULT_LANGUAGE:
        mo = LOCALES_DIR / code / "LC_MESSAGES" / f"{domain}.mo"
        return Translations.load(str(LOCALES_DIR), [code], domain) if mo.exists() else _gettext.NullTranslations()
    mo = LOCALES_DIR / code / "LC_MESSAGES" / f"{domain}.mo"
    if not mo.exists():
        raise CatalogMissing(f"no compiled catalog at {mo}: run `make catalogs`")
    return Translations.load(str(LOCALES_DIR), [code], domain)


_current: ContextVar[str] = ContextVar("language", default=DEFAULT_LANGUAGE)


def current_language() -> str:
    """The language of the person being answered right now."""
    return _current.get()


@contextmanager
def use_language(code: str | None) -> Iterator[str]:
    """Answer in this language for the duration of the block."""
    lang = code if code in BY_CODE else DEFAULT_LANGUAGE
    token = _current.set(lang)
    try:
        yield lang
    finally:
        _current.reset(token)


def _(message: str) -> str:
    """Translate a family-facing message into the current person's language."""
    return translations(_current.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """Translate a message whose wording depends on a number."""
    return translations(_current.get()).ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Mark a message for translation later, when the person's language is known."""
    return message


def is_rtl(code: str | None) -> bool:
    """Whether a language is written right to left."""
    return bool(code and code in BY_CODE and BY_CODE[code].rtl)


# Unicode isolates keep numbers, phone numbers and English names readable inside RTL text.
FSI, PDI = "\u2068", "\u2069"


def isolate(text: str) -> str:
    """Wrap a left-to-right run (a phone number, a code) so it reads correctly in RTL text."""
    return f"{FSI}{text}{PDI}" if is_rtl(current_language()) else text


def format_day(value: datetime, tz: str = "Europe/London") -> str:
    """A date written the way the current person reads dates."""
    lang = BY_CODE[current_language()]
    return format_date(value.astimezone(ZoneInfo(tz)).date(), format="long", locale=lang.locale)


def format_moment(value: datetime, tz: str = "Europe/London") -> str:
    """A date and time written the way the current person reads them, in their time zone."""
    lang = BY_CODE[current_language()]
    return format_datetime(value, format="medium", tzinfo=ZoneInfo(tz), locale=lang.locale)
