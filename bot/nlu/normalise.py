"""Text normalisation shared by the classifier, the safety lexicon and language detection."""

from __future__ import annotations

import re
import unicodedata

# Arabic-script letter variants that people type interchangeably (keyboard layouts differ between
# Arabic, Persian, Urdu and Kurdish phones). We fold to one form so "يا"/"یا" or "كيف"/"کیف" match.
_LETTER_FOLD = str.maketrans(
    {
        "ي": "ی",  # Arabic yeh -> Persian/Urdu yeh
        "ى": "ی",  # alef maksura
        "ك": "ک",  # Arabic kaf -> keheh
        "ة": "ه",  # teh marbuta -> heh
        "ۀ": "ه",
        "ە": "ه",  # Kurdish ae (after NFKC) -> heh: keyboards mix them
        "ھ": "ه",  # Urdu do-chashmi heh
        "ہ": "ه",  # Urdu heh goal
        "أ": "ا",
        "إ": "ا",
        "آ": "ا",
        "ٱ": "ا",
        "ؤ": "و",
        "ئ": "ی",
        "ے": "ی",  # Urdu barree yeh; people often type ی instead
        "ۍ": "ی",
        "ێ": "ی",
        "ۆ": "و",
        "ڵ": "ل",
        "ڕ": "ر",
        "ـ": None,  # tatweel (kashida) is decoration only
        "\u200c": " ",  # ZWNJ (Persian half-space) -> space, so "می‌خواهم" ~ "می خواهم"
        "\u200d": None,
        "\u200f": None,
        "\u200e": None,
    }
)

# Arabic-Indic (U+0660..) and Extended/Persian (U+06F0..) digits, plus Devanagari/Bengali/Gurmukhi/
# Gujarati digits, to ASCII: a family may type a menu number on any keyboard.
_DIGITS = {}
for _base in (0x0660, 0x06F0, 0x0966, 0x09E6, 0x0A66, 0x0AE6):
    for _i in range(10):
        _DIGITS[_base + _i] = str(_i)
_DIGIT_FOLD = str.maketrans(_DIGITS)

_SPACE = re.compile(r"\s+")


def _strip_arabic_diacritics(text: str) -> str:
    """Drop harakat and other combining marks in Arabic script (vowel signs are optional)."""
    out = []
    for ch in text:
        if unicodedata.category(ch) == "Mn" and "\u0610" <= ch <= "\u06ed":
            continue
        out.append(ch)
    return "".join(out)


def _strip_latin_accents(text: str) -> str:
    """Fold Latin accents (é->e, ş->s, ą->a) so unaccented texting matches accented data."""
    decomposed = unicodedata.normalize("NFD", text)
    out = []
    for ch in decomposed:
        # Only drop combining marks that follow a Latin base letter; Indic vowel signs are letters
        # in all but name and must stay.
        if unicodedata.category(ch) == "Mn" and "\u0300" <= ch <= "\u036f":
            continue
        out.append(ch)
    return unicodedata.normalize("NFC", "".join(out))


def normalise(text: str, *, keep_punctuation: bool = False) -> str:
    """One canonical form of a message: NFKC, casefolded, letter variants and digits folded."""
    text = unicodedata.normalize("NFKC", text)
    text = text.casefold()
    text = text.replace("ı", "i").replace("ł", "l").replace("ß", "ss")
    text = text.translate(_DIGIT_FOLD)
    text = _strip_arabic_diacritics(text)
    text = text.translate(_LETTER_FOLD)
    text = _strip_latin_accents(text)
    text = text.replace("'", "").replace("’", "")  # "don't" == "dont", as people text
    if not keep_punctuation:
        # Punctuation and symbols (any script) become spaces; letters, Indic vowel signs and digits stay.
        text = "".join(" " if unicodedata.category(ch)[0] in "PSC" else ch for ch in text)
    return _SPACE.sub(" ", text).strip()
