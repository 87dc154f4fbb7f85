"""Every required language: complete catalogs, correct locale handling, and the whole form in each."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from sqlalchemy import select

from bot.i18n import LANGUAGES, CatalogMissing, isolate, resolve_language, translations, use_language
from bot.storage.models import ContributionVersion
from tests.people import Person

OTHER_LANGUAGES = [lang for lang in LANGUAGES if lang.code != "en"]


def test_i18n_status_reports_every_catalog_complete_and_unbroken():
    command = [sys.executable, "-m", "bot.cli", "i18n", "status", "--json"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-3000:]
    report = {entry["code"]: entry for entry in json.loads(result.stdout)}
    assert set(report) == {lang.code for lang in LANGUAGES}
    for lang in OTHER_LANGUAGES:
        assert report[lang.code]["coverage"] == 100.0, lang.code
        assert report[lang.code]["errors"] == [], lang.code
        assert report[lang.code]["review"] == "awaiting native review", "drafts are marked as drafts"


def test_i18n_status_finds_a_broken_placeholder(tmp_path):
    from bot.i18n import LOCALES_DIR
    from bot.i18n_status import check_locale

    target = tmp_path / "es" / "LC_MESSAGES"
    target.mkdir(parents=True)
    po = (LOCALES_DIR / "es" / "LC_MESSAGES" / "messages.po").read_text(encoding="utf-8")
    (target / "messages.po").write_text(po.replace("{number}", "{numero}", 1), encoding="utf-8")
    assert any("placeholders differ" in e for e in check_locale("es", tmp_path).errors)


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("en-GB", "en"),
        ("pa-Guru", "pa"),
        ("pa_IN", "pa"),
        ("pa-Arab", None),
        ("ckb-IQ", "ckb"),
        ("ur-PK", "ur"),
        ("fa-IR", "fa"),
        ("xx", None),
    ],
)
def test_language_codes_with_scripts_resolve_correctly(code, expected):
    assert resolve_language(code) == expected


def test_a_missing_catalog_fails_loudly(monkeypatch, tmp_path):
    import bot.i18n

    monkeypatch.setattr(bot.i18n, "LOCALES_DIR", tmp_path)
    translations.cache_clear()
    try:
        with pytest.raises(CatalogMissing):
            translations("ur")
    finally:
        monkeypatch.undo()
        translations.cache_clear()


def test_phone_numbers_are_isolated_in_right_to_left_text():
    with use_language("ar"):
        assert isolate("0808 2000 247") == "\u20680808 2000 247\u2069"
    with use_language("pl"):
        assert isolate("0808 2000 247") == "0808 2000 247"


@pytest.mark.parametrize("lang", OTHER_LANGUAGES, ids=lambda lang: lang.code)
def test_the_whole_form_in_each_language(service, database_url, lang):
    if "postgresql" in database_url:
        pytest.skip("the language path is the same on both databases; SQLite runs it")
    person = Person(service.engine, address=f"+4477009{LANGUAGES.index(lang):05d}")
    person.says("hello")
    heard = person.picks(lang.native_name)
    with use_language("en"):
        english = translations("en").gettext("Is it safe for you to talk now?")
    assert english not in heard, f"{lang.code}: the person must not be answered in English"
    person.says("1")  # safe to talk: yes
    person.says("2")  # others read: no
    person.says("2")  # no code
    person.says("7")  # the form
    for _ in range(40):
        if (
            len(person.options) == 3
            and not person.replies[-1].many
            and "?" in person.replies[-1].text
            and person.replies[0].text.count("\n") > 10
        ):
            break
        person.says("1")
    person.says("1")  # save
    with service.db.session() as s:
        saved = s.scalars(select(ContributionVersion)).one()
    assert saved.answers["relationship"] == "parent" and saved.answers["consent_share_chair"] == "yes"


def test_every_staff_app_string_is_in_the_staff_catalog():
    import re
    from pathlib import Path

    from babel.messages.pofile import read_po

    root = Path(__file__).resolve().parent.parent
    with (root / "locales" / "en" / "LC_MESSAGES" / "staff.po").open("rb") as f:
        catalog = {m.id for m in read_po(f) if m.id}
    used = set()
    for path in [*(root / "handoff" / "templates").glob("*.html"), *(root / "handoff").glob("*.py")]:
        used |= set(re.findall(r'\bt\("([^"]+)"\)', path.read_text(encoding="utf-8")))
    assert used, "the staff app's words go through t()"
    assert used <= catalog, f"not extracted (run make extract): {sorted(used - catalog)[:5]}"
