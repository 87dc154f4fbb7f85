"""Language detection: the right language from a short message, or None rather than a wrong guess."""

from __future__ import annotations

import pytest

from bot.nlu.langid import detect_language


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ਮੈਨੂੰ ਮਦਦ ਚਾਹੀਦੀ ਹੈ", "pa"),
        ("আমার সাহায্য দরকার", "bn"),
        ("મને મદદ જોઈએ છે", "gu"),
        ("मुझे मदद चाहिए", "hi"),
        ("مجھے کسی سے بات کرنی ہے", "ur"),
        ("من می‌خواهم با کسی صحبت کنم", "fa"),
        ("دەمەوێت لەگەڵ کەسێک قسە بکەم", "ckb"),
        ("أريد التحدث مع شخص من فضلك", "ar"),
        ("I would like to talk to someone", "en"),
        ("necesito hablar con alguien", "es"),
        ("preciso de falar com alguém", "pt"),
        ("potrzebuję z kimś porozmawiać", "pl"),
        ("am nevoie să vorbesc cu cineva", "ro"),
        ("j'ai besoin de parler à quelqu'un", "fr"),
        ("birisiyle konuşmam gerekiyor", "tr"),
        ("waxaan u baahanahay inaan qof la hadlo", "so"),
        ("dwi angen siarad gyda rhywun", "cy"),
    ],
)
def test_each_language_is_recognised(text: str, expected: str) -> None:
    lang, confidence = detect_language(text)
    assert lang == expected
    assert confidence >= 0.5


@pytest.mark.parametrize(
    "text", ["mujhe kisi se baat karni hai", "kya main report parh sakti hoon", "mera data delete karo please"]
)
def test_roman_urdu_is_not_mistaken_for_english(text: str) -> None:
    lang, _ = detect_language(text)
    assert lang == "ur"


@pytest.mark.parametrize("text", ["ok", "1", "yes", "3 5", "JOIN K7MQ-2XPB", "no", "hi", "", "👍", "سلام"])
def test_short_or_ambiguous_messages_do_not_switch_language(text: str) -> None:
    # A wrong guess would change the language the bot answers in; None keeps the person's choice.
    assert detect_language(text)[0] is None


def test_the_profile_scores_exactly_as_scikit_learn_does() -> None:
    import numpy as np

    from bot.nlu.data import TEST_DIR, load_examples
    from bot.nlu.langid import _profile, _profile_scorer

    texts = [e.text for e in load_examples(TEST_DIR)][::5]
    expected = _profile().predict_proba(texts)
    scorer = _profile_scorer()
    assert scorer is not None
    got = np.array([scorer.proba(t) for t in texts])
    assert np.abs(expected - got).max() < 1e-9


@pytest.mark.parametrize(
    "text",
    [
        "dwi'n stressed",
        "mae hi'n anodd iawn heddiw",
        "sori, dwi ddim yn deall",
        "Rwy'n teimlo'n unig",
        "diolch yn fawr",
    ],
)
def test_welsh_texting_is_recognised_even_mixed_with_english(text: str) -> None:
    # fastText's lite model reads these as English, Turkish or Romanian; everyday Welsh words decide.
    assert detect_language(text)[0] == "cy"


@pytest.mark.parametrize(
    "text",
    ["I live in Llanelli, near Caerphilly", "my sister lived in Pontypridd with him", "can I talk to someone in Welsh"],
)
def test_english_about_wales_stays_english(text: str) -> None:
    assert detect_language(text)[0] == "en"
