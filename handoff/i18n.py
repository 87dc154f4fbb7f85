"""Staff-app wording: its own gettext domain ("staff"), so family translators are never asked for it."""

from __future__ import annotations

import gettext as _gettext
from functools import lru_cache

from bot.i18n import LOCALES_DIR

DOMAIN = "staff"
STAFF_LANGUAGE = "en"


@lru_cache(maxsize=4)
def _catalog(code: str) -> _gettext.NullTranslations:
    # English is the source language: a missing catalog is fine here (unlike family-facing text).
    return _gettext.translation(DOMAIN, str(LOCALES_DIR), languages=[code], fallback=True)


def t(message: str) -> str:
    """Translate a staff-app string."""
    return _catalog(STAFF_LANGUAGE).gettext(message)


def tn(singular: str, plural: str, n: int) -> str:
    """Translate a staff-app string whose wording depends on a number."""
    return _catalog(STAFF_LANGUAGE).ngettext(singular, plural, n)
