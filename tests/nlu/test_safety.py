"""The safety net: messages that show danger or self-harm are urgent in every language; ordinary ones are not."""

from __future__ import annotations

import random

import pytest

from bot.nlu import ComposedNLU
from bot.nlu.data import TEST_DIR, load_examples
from bot.nlu.lexicon import check_safety, default_lexicon

# One or more messages per language that a human must see at once. Written independently of the
# lexicon files and the held-out split, in the way people text (no accents, merged words, mixing).
MUST_BE_URGENT: dict[str, list[str]] = {
    "en": ["I don't want to live anymore", "im going to kill myself", "he is outside my house right now"],
    "ur": ["میں اب جینا نہیں چاہتی", "mujhe jeena nahi hai ab", "وہ مجھے مار دیں گے"],
    "pa": ["ਮੈਂ ਜੀਣਾ ਨਹੀਂ ਚਾਹੁੰਦੀ", "main jeena nahi chaundi", "ਮੇਰਾ ਜ਼ਬਰਦਸਤੀ ਵਿਆਹ ਕਰ ਰਹੇ ਨੇ"],
    "bn": ["আমি আর বাঁচতে চাই না", "ওরা আমাকে মেরে ফেলবে"],
    "gu": ["હું જીવવા નથી માંગતી", "તેઓ મને મારી નાખશે"],
    "hi": ["मैं जीना नहीं चाहती", "मुझे जान से मारने की धमकी दी"],
    "ar": ["لا اريد ان اعيش", "رح يقتلوني"],
    "fa": ["نمیخوام زنده باشم", "منو میکشن"],
    "ckb": ["نامەوێت بژیم", "دەمکوژن"],
    "tr": ["yasamak istemiyorum artik", "beni oldurecekler"],
    "so": ["ma rabo inaan noolaado", "way i dili doonaan"],
    "es": ["ya no quiero vivir", "me van a matar"],
    "pt": ["nao quero viver mais", "vao me matar"],
    "pl": ["nie chce zyc", "zabija mnie"],
    "ro": ["nu mai vreau sa traiesc", "o sa ma omoare"],
    "fr": ["je veux mourir", "ils vont me tuer"],
    "cy": ["dw i ddim eisiau byw", "dwi isie marw", "mae o'n mynd i fy lladd i"],
}

# Things families type every day that must never page an advocate or flash emergency numbers.
ORDINARY = ["1", "3 5", "yes", "JOIN K7MQ-2XPB", "thank you", "what is a review", "menu", "ok", "2", "STOP"]


@pytest.mark.parametrize(("lang", "text"), [(lang, t) for lang, texts in MUST_BE_URGENT.items() for t in texts])
def test_danger_and_self_harm_are_urgent_in_every_language(embedded_nlu: ComposedNLU, lang: str, text: str) -> None:
    parsed = embedded_nlu.parse(text)
    assert parsed.triage == "urgent", f"{lang}: {text!r} was read as {parsed.intent}"


@pytest.mark.parametrize("text", ORDINARY)
def test_everyday_messages_are_never_urgent(embedded_nlu: ComposedNLU, text: str) -> None:
    parsed = embedded_nlu.parse(text)
    assert parsed.triage != "urgent", f"{text!r} would alarm an advocate as {parsed.intent}"
    assert check_safety(text) is None


@pytest.mark.parametrize(
    ("text", "expected_intent"),
    [
        ("I DON'T WANT TO LIVE!!!", "self_harm_risk"),  # shouting and punctuation
        ("killmyself", "self_harm_risk"),  # run together
        ("kill my self", "self_harm_risk"),  # split apart
        ("im so suicidal", "self_harm_risk"),
        ("they threatend me", "safety_concern"),  # misspelt
        ("nie chcę żyć", "self_harm_risk"),  # with diacritics ...
        ("nie chce zyc", "self_harm_risk"),  # ... and without
        ("لا أريد أن أعيش", "self_harm_risk"),
        ("لا اريد ان اعيش", "self_harm_risk"),  # hamza dropped, as many keyboards do
        ("نمی‌خواهم زنده باشم", "self_harm_risk"),  # Persian half-space
        ("نمی خواهم زنده باشم", "self_harm_risk"),  # ... typed as a space
        ("sorry but mujhe jeena nahi hai", "self_harm_risk"),  # code-mixed
        ("they want forced marriage for me in pakistan", "safety_concern"),
        ("DWI DDIM ISIO BYW!!", "self_harm_risk"),  # Welsh, shouted
        ("dwin mynd i ladd fyhun", "self_harm_risk"),  # apostrophe dropped, mutated, run together
        ("maen nhw'n fy ngorfodi i briodi", "safety_concern"),
    ],
)
def test_lexicon_tolerates_how_people_really_type(text: str, expected_intent: str) -> None:
    hit = check_safety(text)
    assert hit is not None, f"{text!r} slipped past the safety lexicon"
    assert hit[0] == expected_intent


@pytest.mark.parametrize(
    "text",
    [
        "I want to diet",
        "I live outside London",
        "she died by suicide",
        "my house is near the school",
        "I love my kids",
        # Welsh: "she has died", "she died by suicide", "it's killing me / it hurts me to think about her"
        "mae hi wedi marw",
        "bu farw drwy hunanladdiad",
        "mae'n fy lladd i meddwl amdani",
        "mae'n fy mrifo i bob dydd",
    ],
)
def test_lexicon_does_not_fire_on_near_misses(text: str) -> None:
    # Each is one letter or one word away from a lexicon phrase, or is how families describe the death.
    assert check_safety(text) is None


def test_lexicon_hit_outranks_the_classifier(embedded_nlu: ComposedNLU) -> None:
    parsed = embedded_nlu.parse("thank you for everything but I want to end my life")
    assert (parsed.intent, parsed.triage, parsed.confidence) == ("self_harm_risk", "urgent", 1.0)
    assert parsed.entities[0]["value"] == "end my life"


def _misspelt(text: str, rng: random.Random) -> str:
    """One slip of the thumb: two letters swapped, one wrong, one missing or one doubled."""
    if len(text) < 3:
        return text
    i = rng.randrange(len(text) - 1)
    return rng.choice(
        [
            text[:i] + text[i + 1] + text[i] + text[i + 2 :],
            text[:i] + "x" + text[i + 1 :],
            text[:i] + text[i + 1 :],
            text[:i] + text[i] + text[i:],
        ]
    )


def test_the_lexicon_indexes_never_change_what_is_found() -> None:
    # The indexes only make matching faster: every held-out message, misspelt once or twice or run
    # together, must find the same phrase (or none) as trying every phrase in turn.
    rng = random.Random(7)
    texts = [e.text for e in load_examples(TEST_DIR)]
    texts += [_misspelt(t, rng) for t in texts] + [_misspelt(_misspelt(t, rng), rng) for t in texts]
    texts += [t.replace(" ", "") for t in texts[::3]]
    lexicon = default_lexicon()
    differences = [t for t in texts if lexicon.match(t) != lexicon.match(t, scan=True)]
    assert not differences
    assert sum(lexicon.match(t) is not None for t in texts) > 100  # the comparison covered real hits


def test_a_long_unbroken_message_is_checked_without_building_its_misspellings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A pasted link or a long run of letters once cost seconds and gigabytes: the fuzzy index built
    # every form of the word with two letters removed, which grows with the square of its length.
    from bot.nlu import lexicon

    built = lexicon._deletions

    def refuse_long(word: str, depth: int = 2) -> set[str]:
        assert len(word) < 40, f"built the misspellings of a {len(word)}-letter word"
        return built(word, depth)

    monkeypatch.setattr(lexicon, "_deletions", refuse_long)
    rng = random.Random(11)
    long_word = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(4000))
    assert check_safety(long_word) is None
    assert check_safety(long_word + " i want to end my life") == ("self_harm_risk", "end my life")
