"""The contribution itself, in the person's language: an account, who they were, a name, and files;
read back before saving, versioned, a consent for each use, changed or withdrawn, across channels."""

from __future__ import annotations

import base64

import pytest
from sqlalchemy import select, text

from bot.dialogue import form
from bot.dialogue.contributions import MAX_FILE_BYTES, latest_pieces
from bot.dialogue.messages import Inbound, Media
from bot.i18n import LANGUAGES
from bot.storage.models import Attachment, Contact, ContributionPiece, ContributionVersion, Ticket
from tests.conftest import only_on
from tests.people import Person

# English, a right-to-left language, a language with its own "no" (Polish "no" means "yeah"), and Welsh.
LANGUAGE_CODES = ["en", "ur", "pl", "cy"]

# What a sister writes, in her own language (the bot's words may still be awaiting translation).
ACCOUNT = {
    "en": ["She was my little sister.", "She called me the night before and said she was frightened.", "Nobody came."],
    "ur": ["وہ میری چھوٹی بہن تھی۔", "اس نے ایک رات پہلے مجھے فون کیا اور کہا کہ وہ ڈری ہوئی ہے۔", "کوئی نہیں آیا۔"],
    "pl": ["Była moją młodszą siostrą.", "Zadzwoniła do mnie noc wcześniej i powiedziała, że się boi.", "Nikt nie przyszedł."],
    "cy": ["Hi oedd fy chwaer fach.", "Fe wnaeth hi fy ffonio y noson cynt a dweud ei bod hi'n ofnus.", "Ddaeth neb."],
}  # fmt: skip
PORTRAIT = {
    "en": "She sang all the time and she loved her garden.",
    "ur": "وہ ہر وقت گاتی تھی اور اسے اپنا باغ بہت پسند تھا۔",
    "pl": "Ciągle śpiewała i kochała swój ogród.",
    "cy": "Roedd hi'n canu drwy'r amser ac yn caru ei gardd.",
}
NAME = {"en": "Rosie", "ur": "گلاب", "pl": "Róża", "cy": "Rhosyn"}


def choose(person: Person, value: str) -> str:
    """Pick the offered option with this value, by its number, as a person in any language would."""
    offered = [r for r in person.replies if r.choices]
    assert offered, f"no options offered; heard:\n{person.heard}"
    values = [c.value for c in offered[-1].choices]
    assert value in values, f"no option {value!r} in {values}; heard:\n{person.heard}"
    return person.says(str(values.index(value) + 1))


def offered(person: Person) -> list[str]:
    """The values of the options last offered."""
    with_choices = [r for r in person.replies if r.choices]
    return [c.value for c in with_choices[-1].choices] if with_choices else []


def to_menu(person: Person, code: str) -> None:
    """First contact in a language, by numbers only."""
    person.says("hello")
    person.says(str([lang.code for lang in LANGUAGES].index(code) + 1))
    choose(person, "yes")  # safe to talk
    choose(person, "no")  # nobody else reads
    choose(person, "none")  # no invitation code


def register(person: Person, code: str, ways: list[str]) -> None:
    """The form: a sister who chooses these ways of taking part, skips the rest, and saves."""
    to_menu(person, code)
    choose(person, "form")
    choose(person, "sibling")
    numbers = [str([o.value for o in form.BY_KEY[form.WAYS].options].index(w) + 1) for w in ways]
    person.says(" ".join(numbers))
    for _ in range(30):
        if "save" in offered(person):
            break
        choose(person, form.SKIPPED)
    choose(person, "save")


def pieces(service) -> dict[str, ContributionPiece]:
    with service.db.session() as s:
        contact = s.scalars(select(Contact)).one()
        found = {p.piece: p for p in latest_pieces(s, [contact.id])}
        s.expunge_all()
        return found


def history(service, piece: str) -> list[ContributionPiece]:
    with service.db.session() as s:
        found = list(
            s.scalars(
                select(ContributionPiece).where(ContributionPiece.piece == piece).order_by(ContributionPiece.version)
            )
        )
        s.expunge_all()
        return found


def consents(piece: ContributionPiece) -> tuple[bool, bool, bool]:
    return (piece.consent_chair, piece.consent_quote, piece.consent_panel)


def sends_file(person: Person, content_type: str, data: bytes, caption: str = "") -> str:
    """A voice note, photo or document arriving on the person's channel."""
    person._n += 1
    inbound = Inbound(
        channel=person.channel, address=person.address, text=caption, media=(Media(content_type, data),),
        provider_message_id=f"{person.address}-media-{person._n}", received_at=person.now,
    )  # fmt: skip
    person.replies = person.engine.handle(inbound)
    return person.heard


# ---------------------------------------------------------------------- an account, in several languages
@pytest.mark.parametrize("code", LANGUAGE_CODES)
@only_on("sqlite")  # the conversation is the same on both databases: SQLite runs it
def test_a_written_account_over_several_messages_is_read_back_then_saved_with_a_consent_for_each_use(service, code):
    person = Person(service.engine, address=f"+44770090{len(code)}{ord(code[0])}")
    register(person, code, [form.WAY_WRITTEN])
    choose(person, "now")  # offered to write it now, after the form
    heard = choose(person, "account")
    assert "DONE" in heard
    written = ACCOUNT[code]
    for line in written:
        person.says(line)
    assert not pieces(service), "nothing is saved before the account is read back and confirmed"
    heard = choose(person, "done")
    for line in written:
        assert line in heard, "the whole account is read back, in the person's own words"
    assert heard.index(written[0]) < heard.index(written[2]), "in the order it was written"
    choose(person, "save")
    choose(person, "yes")  # the chair may read it
    choose(person, "no")  # the report may not quote it
    heard = choose(person, "yes")  # the panel may see it
    saved = pieces(service)["account"]
    assert saved.text == "\n\n".join(written)
    assert consents(saved) == (True, False, True)
    assert saved.version == 1 and saved.case_id is None and not saved.withdrawn
    assert "account" in offered(person), "back where other things can be given"


@pytest.mark.parametrize("code", LANGUAGE_CODES)
@only_on("sqlite")  # the conversation is the same on both databases: SQLite runs it
def test_who_they_were_and_a_name_for_the_report_are_collected_and_read_back(service, code):
    person = Person(service.engine, address=f"+44770091{len(code)}{ord(code[0])}")
    register(person, code, [form.WAY_PORTRAIT, form.WAY_NAME])
    choose(person, "now")
    choose(person, "portrait")
    person.says(PORTRAIT[code])
    assert PORTRAIT[code] in choose(person, "done")
    choose(person, "save")
    choose(person, "no")  # nobody working on the review may read it yet
    heard = choose(person, "name")
    heard = person.says(NAME[code])
    assert NAME[code] in heard, "a suggested name is read back at once"
    choose(person, "save")
    choose(person, "yes")
    choose(person, "yes")  # the report may use this name
    choose(person, "no")
    saved = pieces(service)
    assert saved["portrait"].text == PORTRAIT[code]
    assert consents(saved["portrait"]) == (False, False, False), "saying no to the chair rules out every use"
    assert saved["name"].text == NAME[code] and consents(saved["name"]) == (True, True, False)


@pytest.mark.parametrize("code", LANGUAGE_CODES)
@only_on("sqlite")  # the conversation is the same on both databases: SQLite runs it
def test_an_account_is_added_to_then_withdrawn_and_every_version_is_kept(service, code):
    person = Person(service.engine, address=f"+44770092{len(code)}{ord(code[0])}")
    register(person, code, [form.WAY_WRITTEN])
    choose(person, "now")
    choose(person, "account")
    person.says(ACCOUNT[code][0])
    choose(person, "done")
    choose(person, "save")
    for _ in range(3):
        choose(person, "yes")
    choose(person, "account")  # now the saved account
    choose(person, "add")
    person.says(ACCOUNT[code][1])
    heard = choose(person, "done")
    assert ACCOUNT[code][0] in heard and ACCOUNT[code][1] in heard
    choose(person, "save")
    choose(person, "yes")
    choose(person, "no")
    choose(person, "no")
    choose(person, "account")
    choose(person, "withdraw")
    choose(person, "yes")
    first, second, third = history(service, "account")
    assert first.text == ACCOUNT[code][0] and consents(first) == (True, True, True)
    assert second.text == ACCOUNT[code][0] + "\n\n" + ACCOUNT[code][1] and consents(second) == (True, False, False)
    assert third.withdrawn and third.text is None and consents(third) == (False, False, False)
    assert "account" in offered(person)
    choose(person, "account")
    assert "DONE" in person.heard, "after withdrawing, the person can write a new account"


@pytest.mark.parametrize("code", LANGUAGE_CODES)
@only_on("sqlite")  # the conversation is the same on both databases: SQLite runs it
def test_consent_for_each_use_can_be_changed_later_as_a_new_version(service, code):
    person = Person(service.engine, address=f"+44770093{len(code)}{ord(code[0])}")
    register(person, code, [form.WAY_PORTRAIT])
    choose(person, "now")
    choose(person, "portrait")
    person.says(PORTRAIT[code])
    choose(person, "done")
    choose(person, "save")
    choose(person, "yes")
    choose(person, "no")
    choose(person, "no")
    choose(person, "portrait")
    choose(person, "consent")
    choose(person, "yes")
    choose(person, "yes")
    choose(person, "no")
    before, after = history(service, "portrait")
    assert consents(before) == (True, False, False) and consents(after) == (True, True, False)
    assert after.text == before.text == PORTRAIT[code], "changing a consent keeps the words as they were"


@pytest.mark.parametrize("code", LANGUAGE_CODES)
@only_on("sqlite")  # the conversation is the same on both databases: SQLite runs it
def test_files_on_any_channel_are_kept_encrypted_read_back_and_given_with_consent(service, code):
    person = Person(service.engine, address=f"+44770094{len(code)}{ord(code[0])}", channel="whatsapp")
    register(person, code, [form.WAY_VOICE])
    choose(person, "now")
    choose(person, "file")
    voice = b"OggS\x00" + b"her-voice" * 50
    photo = b"\xff\xd8\xff\xe0" + b"garden-photo" * 50
    heard = sends_file(person, "audio/ogg", voice)
    assert "done" in offered(person), heard
    sends_file(person, "image/jpeg", photo, caption=PORTRAIT[code])
    heard = choose(person, "done")
    assert PORTRAIT[code] in heard, "the caption is read back with the photo"
    choose(person, "save")
    choose(person, "yes")
    choose(person, "no")
    choose(person, "yes")
    saved = [p for p in pieces(service).values() if p.kind == "file"]
    assert len(saved) == 2 and all(consents(p) == (True, False, True) for p in saved)
    with service.db.session() as s:
        stored = {a.content_type: a for a in s.scalars(select(Attachment))}
        assert base64.b64decode(stored["audio/ogg"].data) == voice
        assert stored["image/jpeg"].byte_size == len(photo)
        raw = " ".join(str(v) for row in s.execute(text("SELECT data FROM attachments")) for v in row)
        assert base64.b64encode(voice).decode()[:40] not in raw
        assert not s.scalars(select(Ticket)).all(), "a file given to the review raises no ticket"
    choose(person, "files")
    choose(person, saved[0].piece)
    choose(person, "withdraw")
    choose(person, "yes")
    assert pieces(service)[saved[0].piece].withdrawn


@pytest.mark.parametrize(
    ("content_type", "size", "expected"),
    [("application/x-msdownload", 100, "can't keep this kind of file"), ("audio/ogg", MAX_FILE_BYTES + 1, "too big")],
)
@only_on("sqlite")  # the conversation is the same on both databases: SQLite runs it
def test_a_file_of_the_wrong_type_or_too_big_is_refused_kindly_and_not_kept(service, content_type, size, expected):
    person = Person(service.engine, channel="telegram", address="5550001")
    register(person, "en", [form.WAY_VOICE])
    choose(person, "now")
    choose(person, "file")
    heard = sends_file(person, content_type, b"x" * size)
    assert expected in heard
    assert "done" in offered(person), "the person can send another"
    with service.db.session() as s:
        assert not s.scalars(select(Attachment)).all()


@only_on("sqlite")  # the conversation is the same on both databases: SQLite runs it
def test_a_voice_note_outside_a_contribution_still_goes_to_a_person(service):
    person = Person(service.engine, channel="telegram", address="5550002")
    to_menu(person, "en")
    heard = sends_file(person, "audio/ogg", b"OggS" + b"a" * 100)
    assert "a person from our team will listen" in heard
    with service.db.session() as s:
        assert s.scalars(select(Ticket)).one().reason == "media"


# ---------------------------------------------------------------------- at the person's pace
@only_on("sqlite")  # the conversation is the same on both databases: SQLite runs it
def test_an_account_carries_on_after_a_pause_on_another_channel(service):
    phone = Person(service.engine, channel="sms", address="+447700900555")
    register(phone, "en", [form.WAY_WRITTEN])
    choose(phone, "now")
    choose(phone, "account")
    phone.says("The first part, written on the bus.")
    heard = phone.says("PAUSE")
    code = heard.split("RESUME ")[1][:9]
    laptop = Person(service.engine, channel="web", address="browser-session-1")
    heard = laptop.says(f"RESUME {code}")
    assert "What you sent so far is kept" in heard
    laptop.says("The second part, written at home.")
    heard = choose(laptop, "done")
    assert "The first part, written on the bus." in heard and "The second part, written at home." in heard
    choose(laptop, "save")
    choose(laptop, "yes")
    choose(laptop, "yes")
    choose(laptop, "yes")
    saved = pieces(service)["account"]
    assert saved.text is not None and saved.text.startswith("The first part") and saved.channel == "web"


@only_on("sqlite")  # the conversation is the same on both databases: SQLite runs it
def test_words_that_sound_like_a_request_are_kept_in_the_account_not_taken_as_a_command(service):
    person = Person(service.engine)
    register(person, "en", [form.WAY_WRITTEN])
    choose(person, "now")
    choose(person, "account")
    heard = person.says("I wanted to talk to someone at the council but nobody would listen")
    assert "Kept" in heard
    heard = choose(person, "done")
    assert "nobody would listen" in heard
    with service.db.session() as s:
        assert not s.scalars(select(Ticket)).all()


@only_on("sqlite")  # the conversation is the same on both databases: SQLite runs it
def test_an_urgent_message_mid_account_shows_help_and_is_kept_with_the_account(service):
    person = Person(service.engine)
    register(person, "en", [form.WAY_WRITTEN])
    choose(person, "now")
    choose(person, "account")
    person.says("She told me about the bruises.")
    heard = person.says("I don't want to live anymore")
    assert "999" in heard or "116 123" in heard
    assert "DONE" in heard, "the account carries on"
    heard = choose(person, "done")
    assert "She told me about the bruises." in heard and "I don't want to live anymore" in heard
    with service.db.session() as s:
        assert s.scalars(select(Ticket)).one().priority == "urgent"


@only_on("sqlite")  # the conversation is the same on both databases: SQLite runs it
def test_keep_it_for_later_saves_nothing_and_the_menu_offers_to_carry_on(service):
    person = Person(service.engine)
    register(person, "en", [form.WAY_WRITTEN])
    choose(person, "now")
    choose(person, "account")
    person.says("Something I want to say.")
    choose(person, "done")
    choose(person, "later")
    assert not pieces(service)
    choose(person, "contribute")
    heard = choose(person, "account")
    assert "What you sent so far is kept" in heard
    assert "Something I want to say." in choose(person, "done")


def test_the_account_is_encrypted_at_rest(service):
    person = Person(service.engine)
    register(person, "en", [form.WAY_WRITTEN])
    choose(person, "now")
    choose(person, "account")
    person.says("The health visitor saw the bruises.")
    choose(person, "done")
    choose(person, "save")
    for _ in range(3):
        choose(person, "yes")
    with service.db.engine.connect() as conn:
        raw = " ".join(str(v) for row in conn.execute(text("SELECT text FROM contribution_pieces")) for v in row)
        raw += " ".join(str(v) for row in conn.execute(text("SELECT contribution_draft FROM contacts")) for v in row)
    assert "health visitor" not in raw


# ---------------------------------------------------------------------- not taking part
@pytest.mark.parametrize("code", LANGUAGE_CODES)
@pytest.mark.parametrize("keep_informed", ["yes", "no"])
@only_on("sqlite")  # the conversation is the same on both databases: SQLite runs it
def test_not_taking_part_is_acknowledged_stops_the_form_and_asks_only_about_updates(service, code, keep_informed):
    person = Person(service.engine, address=f"+44770095{len(code)}{ord(code[0])}")
    to_menu(person, code)
    choose(person, "form")
    choose(person, "friend")
    no_part = [o.value for o in form.BY_KEY[form.WAYS].options].index(form.WAY_NO_PART) + 1
    heard = person.says(str(no_part))
    assert "completely okay" in heard or code != "en"
    assert [c.value for c in person.replies[-1].choices] == ["yes", "no", form.SKIPPED], "one question only"
    choose(person, keep_informed)
    with service.db.session() as s:
        saved = s.scalars(select(ContributionVersion)).one()
        assert saved.answers == {"relationship": "friend", "ways": ["no_part"], "keep_informed": keep_informed}
        assert s.scalars(select(Contact)).one().state == "menu", "the form stops; no summary, no more questions"
    assert "contribute" not in offered(person)


@only_on("sqlite")  # the conversation is the same on both databases: SQLite runs it
def test_a_photo_sent_from_the_list_of_things_to_give_joins_the_files(service):
    person = Person(service.engine, channel="telegram", address="5550003")
    register(person, "en", [form.WAY_PORTRAIT])
    choose(person, "now")
    heard = sends_file(person, "image/jpeg", b"\xff\xd8" + b"p" * 64)
    assert "Your photo is kept" in heard
    assert "1. Photo" in choose(person, "done")
    with service.db.session() as s:
        assert not s.scalars(select(Ticket)).all()


@only_on("sqlite")  # the conversation is the same on both databases: SQLite runs it
def test_a_subject_access_request_shows_every_version_and_erasure_removes_them(service):
    from bot.privacy import erase, subject_access

    person = Person(service.engine)
    register(person, "en", [form.WAY_WRITTEN])
    choose(person, "now")
    choose(person, "account")
    person.says("What I want the review to know.")
    choose(person, "done")
    choose(person, "save")
    choose(person, "no")  # nobody may read it: the other uses are not asked
    with service.db.session() as s:
        contact = s.scalars(select(Contact)).one()
        given = subject_access(s, contact.id, staff_id=None)["given_to_the_review"]
        assert [(g["kind"], g["text"], g["chair_may_read"]) for g in given] == [
            ("account", "What I want the review to know.", False)
        ]
        erase(s, contact.id, staff_id=None, reason="asked to")
    with service.db.session() as s:
        assert not s.scalars(select(ContributionPiece)).all()


@only_on("sqlite")  # the conversation is the same on both databases: SQLite runs it
def test_pausing_at_the_list_of_things_to_give_comes_back_to_the_list(service):
    person = Person(service.engine)
    register(person, "en", [form.WAY_NAME])
    choose(person, "now")
    code = person.says("PAUSE").split("RESUME ")[1][:9]
    other = Person(service.engine, channel="telegram", address="5550004")
    other.says(f"RESUME {code}")
    assert "name" in offered(other) and "What would you like to give the review" in other.heard
