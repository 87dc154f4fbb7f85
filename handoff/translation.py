"""The English source of what the assistant said in another language, for advocates who do not read it.

The assistant's messages are stored as the person read them. Each line is looked up in that language's
catalog, exactly or as a template with its placeholders filled, and shown beside the original.
"""

from __future__ import annotations

import re
from functools import lru_cache

from bot.i18n import DEFAULT_LANGUAGE, CatalogMissing, translations

_PLACEHOLDER = re.compile(r"\\\{(\w*)\\\}")


@lru_cache(maxsize=32)
def _catalog(language: str) -> tuple[dict[str, str], list[tuple[re.Pattern[str], str]]]:
    """Exact translations back to English, and templates with placeholders as patterns."""
    catalog = getattr(translations(language), "_catalog", {})
    exact: dict[str, str] = {}
    templates: list[tuple[re.Pattern[str], str]] = []
    for msgid, msgstr in catalog.items():
        if not isinstance(msgid, str) or not msgid or not isinstance(msgstr, str):
            continue
        for line_id, line_str in zip(msgid.split("\n"), msgstr.split("\n"), strict=False):
            if "{" in line_str:
                pattern = _PLACEHOLDER.sub(lambda m: f"(?P<{m.group(1) or 'x'}>.+?)", re.escape(line_str.strip()))
                try:
                    templates.append((re.compile(pattern + r"\Z"), line_id.strip()))
                except re.error:  # a placeholder used twice in one line
                    continue
            elif line_str.strip():
                exact.setdefault(line_str.strip(), line_id.strip())
    # Longer templates first: the most specific one wins.
    templates.sort(key=lambda item: -len(item[0].pattern))
    return exact, templates


def _line(line: str, language: str) -> str | None:
    stripped = line.strip().lstrip("•").strip()
    if not stripped:
        return ""
    bullet = "• " if line.strip().startswith("•") else ""
    exact, templates = _catalog(language)
    if stripped in exact:
        return bullet + exact[stripped]
    for pattern, source in templates:
        found = pattern.match(stripped)
        if found:
            try:
                return bullet + source.format(**found.groupdict())
            except (KeyError, IndexError, ValueError):
                return bullet + source
    return None


def english_source(body: str, language: str | None) -> str | None:
    """What an assistant message said in English, line by line; None if it was English or is not ours."""
    if not language or language == DEFAULT_LANGUAGE:
        return None
    try:
        lines = [_line(line, language) for line in body.split("\n")]
    except CatalogMissing:  # a missing catalog must never stop an advocate reading the conversation
        return None
    if not any(lines):
        return None
    return "\n".join(line if line is not None else "[…]" for line in lines)
