"""The sentence encoder: meaning that carries across languages, loaded once, and honest about old processors."""

from __future__ import annotations

import numpy as np
import pytest

from bot.nlu.encoder import E5Encoder, EncoderUnavailable, missing_cpu_flags, shared_encoder

OLD_PROCESSOR = "processor\t: 0\nflags\t\t: fpu vme de pse tsc msr sse sse2 ssse3 sse4_1 sse4_2 avx\n"
NEW_PROCESSOR = "processor\t: 0\nflags\t\t: fpu sse sse2 avx avx2 fma bmi2\n"


@pytest.fixture(scope="module")
def encoder() -> E5Encoder:
    found = shared_encoder()
    if found is None:
        pytest.skip("this processor cannot run the sentence encoder (see missing_cpu_flags)")
    return found


def test_same_meaning_in_two_languages_lands_closer_than_a_different_meaning(encoder: E5Encoder) -> None:
    wish_en, wish_es, question = encoder.encode(
        [
            "I wish I could go to sleep and never wake up",
            "ojalá pudiera dormirme y no despertar nunca",
            "when will the report be published",
        ]
    )
    assert float(wish_en @ wish_es) > float(wish_en @ question)


def test_vectors_are_unit_length_one_row_per_message(encoder: E5Encoder) -> None:
    vectors = encoder.encode(["hello", "", "سلام"])
    assert vectors.shape == (3, encoder.dim)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-3)


def test_one_encoder_per_process(encoder: E5Encoder) -> None:
    assert shared_encoder() is encoder
    assert encoder.threads >= 1


def test_a_processor_without_avx2_is_named_not_crashed_on() -> None:
    assert missing_cpu_flags(OLD_PROCESSOR) == ["avx2", "fma"]
    assert missing_cpu_flags(NEW_PROCESSOR) == []


def test_the_refusal_says_what_is_missing() -> None:
    with pytest.raises(EncoderUnavailable, match="AVX2, FMA"):
        E5Encoder(cpuinfo=OLD_PROCESSOR)
