"""Read NLU examples from Rasa 3.x YAML files, keeping the language each example is written in."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

PROJECT_ROOT = Path(__file__).resolve().parents[2]
INTENTS_DIR = PROJECT_ROOT / "intents"
TRAIN_DIR = INTENTS_DIR / "data"
TEST_DIR = INTENTS_DIR / "test"

# nlu_en.yml, nlu_ckb.yml, test_ur.yml ... : the language code is the last "_" part of the stem.
_LANG_FROM_NAME = re.compile(r"_([a-z]{2,3})$")
# Rasa entity markup "[Amina](pseudonym)" -> "Amina"; we train on the plain text only.
_ENTITY = re.compile(r"\[([^\]]+)\]\([^)]*\)|\[([^\]]+)\]\{[^}]*\}")


@dataclass(frozen=True)
class Example:
    """One message a family member might send, the intent it expresses, and its language."""

    text: str
    intent: str
    language: str | None


def yaml_files(path: Path) -> list[Path]:
    """The NLU YAML files at a path (a single file, or every *.yml/*.yaml under a folder)."""
    if path.is_file():
        return [path]
    return sorted(p for p in path.rglob("*") if p.suffix in {".yml", ".yaml"} and p.is_file())


def language_from_filename(path: Path) -> str | None:
    """`nlu_ur.yml` -> "ur"; None when the name carries no language code."""
    m = _LANG_FROM_NAME.search(path.stem)
    return m.group(1) if m else None


def _strip_entities(text: str) -> str:
    return _ENTITY.sub(lambda m: m.group(1) or m.group(2), text)


def load_file(path: Path) -> list[Example]:
    """Examples from one Rasa NLU file; an intent-level `metadata: {language: xx}` beats the file name."""
    doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    file_lang = language_from_filename(path)
    out: list[Example] = []
    for block in doc.get("nlu") or []:
        intent = block.get("intent")
        if not intent:
            continue  # synonyms, regexes and lookups are not intent examples
        meta = block.get("metadata") or {}
        lang = meta.get("language", file_lang) if isinstance(meta, dict) else file_lang
        raw = block.get("examples") or ""
        lines = raw.splitlines() if isinstance(raw, str) else [str(x) for x in raw]
        for line in lines:
            line = line.strip()
            if not line.startswith("-"):
                continue
            text = _strip_entities(line[1:].strip())
            if text:
                out.append(Example(text=text, intent=str(intent), language=lang))
    return out


def load_examples(path: Path = TRAIN_DIR) -> list[Example]:
    """Every example under a file or folder, in a stable order."""
    examples: list[Example] = []
    for f in yaml_files(path):
        examples.extend(load_file(f))
    return examples


def data_hash(path: Path = TRAIN_DIR, *extra: str) -> str:
    """A fingerprint of the training files (names and bytes) so caches rebuild when data changes."""
    h = hashlib.sha256()
    for s in extra:
        h.update(s.encode())
    for f in yaml_files(path):
        h.update(f.name.encode())
        h.update(b"\0")
        h.update(f.read_bytes())
        h.update(b"\0")
    return h.hexdigest()[:16]
