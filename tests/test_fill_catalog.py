"""Filling a catalog with drafted translations keeps its format, its review state and its placeholders."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

from bot.i18n_status import check_locale

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "fill_catalog.py"


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=60)


def _catalog_missing_two(tmp_path: Path) -> Path:
    target = tmp_path / "cy" / "LC_MESSAGES"
    target.mkdir(parents=True)
    po = target / "messages.po"
    shutil.copy(ROOT / "locales" / "cy" / "LC_MESSAGES" / "messages.po", po)
    text = po.read_text(encoding="utf-8")
    for welsh in ["Ydy hi'n ddiogel i chi siarad nawr?", "Helo. Os ydych chi mewn perygl nawr, ffoniwch {number}."]:
        text = text.replace(f'msgstr "{welsh}"', 'msgstr ""', 1)
    po.write_text(text, encoding="utf-8")
    return po


def test_missing_lists_what_is_untranslated_and_fill_completes_the_catalog(tmp_path):
    po = _catalog_missing_two(tmp_path)
    todo = json.loads(_run("missing", str(po)).stdout)
    assert sorted(e["msgid"] for e in todo) == [
        "Hello. If you are in danger now, call {number}.",
        "Is it safe for you to talk now?",
    ]
    for entry in todo:
        entry["msgstr"] = {
            "Is it safe for you to talk now?": "Ydy hi'n saff i chi siarad nawr?",
            "Hello. If you are in danger now, call {number}.": "Helo. Os ydych chi mewn perygl, ffoniwch {number}.",
        }[entry["msgid"]]
    filled = tmp_path / "todo.json"
    filled.write_text(json.dumps(todo, ensure_ascii=False), encoding="utf-8")
    assert _run("fill", str(po), str(filled)).returncode == 0
    status = check_locale("cy", tmp_path)
    assert (status.coverage, status.errors) == (100.0, [])
    assert status.review == "awaiting native review", "the draft stays marked as a draft"
    with po.open("rb") as f:
        entry = read_po(f).get("Is it safe for you to talk now?")
    assert entry is not None and entry.string == "Ydy hi'n saff i chi siarad nawr?"


def test_fill_refuses_a_translation_that_loses_a_placeholder(tmp_path):
    po = _catalog_missing_two(tmp_path)
    broken = [
        {"context": None, "msgid": "Hello. If you are in danger now, call {number}.", "msgstr": "Helo. Ffoniwch 999."}
    ]
    todo = tmp_path / "todo.json"
    todo.write_text(json.dumps(broken), encoding="utf-8")
    result = _run("fill", str(po), str(todo))
    assert result.returncode != 0 and "placeholders differ" in result.stderr + result.stdout
    assert "untranslated" in " ".join(check_locale("cy", tmp_path).errors)
