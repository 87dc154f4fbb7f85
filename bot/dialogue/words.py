"""The words people type for commands (menu, back, stop...), in every language, from the catalogs."""

from __future__ import annotations

import re
import unicodedata
from functools import cache

from bot.i18n import BY_CODE, translations

# Each entry is a comma-separated list of words; translators add their language's words, and
# English always works too, because people mix languages.


def C_(context: str, words: str) -> str:
    """Mark a comma-separated word list for translators, under a context that says what it is."""
    return words


COMMANDS: dict[str, str] = {
    "menu": C_("command words: menu", "menu, main menu, home, start again"),
    "back": C_("command words: back", "back, go back, previous"),
    "help": C_("command words: help", "help, info"),
    "skip": C_("command words: skip", "skip, pass, next"),
    "pause": C_("command words: pause", "pause, later, save for later, continue later"),
    "stop": C_("command words: stop", "stop, stopall, unsubscribe, cancel, end, quit"),
    "start": C_("command words: start", "start, unstop, resume messages"),
    "person": C_(
        "command words: person",
        "talk to a person, person, human, advocate, real person, speak to someone, call me",
    ),
    "language": C_("command words: language", "language, change language, languages"),
    "new_code": C_("command words: new code", "new code, new resume code, another code"),
    "yes": C_("command words: yes", "yes, y, yeah, yep, ok, okay, sure"),
    "no": C_("command words: no", "no, n, nope, not really"),
    # Finishing an account or portrait written over several messages. Not "finished": "I'm finished"
    # can mean despair, and must reach the safety net rather than end an account.
    "done": C_("command words: done", "done, that's everything, that is everything, that's all, that is all"),
}


def _pgettext_words(code: str, key: str) -> list[str]:
    text = translations(code).pgettext("command words: " + key, COMMANDS[key])
    return [w for w in (normalise(x) for x in text.split(",")) if w]


def normalise(text: str) -> str:
    """Text folded for matching: case, accents kept for meaning, spacing and punctuation dropped."""
    text = unicodedata.normalize("NFKC", text).casefold().strip()
    text = re.sub(r"[\s\u200c\u200d]+", " ", text)
    return text.strip(" .!?¿¡،؟۔।,;:\"'")


@cache
def words_for(key: str, code: str) -> frozenset[str]:
    """The words that mean a command in a language, plus English."""
    words = set(_pgettext_words("en", key)) | set(COMMANDS[key].split(", "))
    if code in BY_CODE and code != "en":
        words |= set(_pgettext_words(code, key))
    return frozenset(words)


@cache
def words_in_any_language(key: str) -> frozenset[str]:
    """The words for a command in every language (STOP must work before a language is chosen)."""
    words: set[str] = set()
    for code in BY_CODE:
        try:
            words |= words_for(key, code)
        except RuntimeError:  # a catalog not compiled yet; the i18n status check reports it
            continue
    return frozenset(words)


def is_command(text: str, key: str, code: str) -> bool:
    """Whether a message is exactly one of the words for a command."""
    return normalise(text) in words_for(key, code)
