"""A reader's own text: its checks, its held-out split, its fit to the base vocabulary, what the
server keeps of it, and the two playgrounds trained on it."""

from __future__ import annotations

import hashlib
import math

import pytest

from app.demos import _own_text, fine_tuning, pretraining
from app.demos.base import run_inline
from app.ml import charlm, own_text, texts

POEM = (
    "Slow rain on the harbour wall, and the boats asleep in rows;\n"
    "a gull complains of the weather, and nobody answers it.\n"
) * 8  # 936 characters, 2 lines repeated: a text a tiny model can learn quickly


@pytest.mark.parametrize(
    ("value", "phrase"),
    [
        (" \n\t ", "is empty"),
        ("a" * 120, "has 120 characters; at least 500"),
        ("a" * 16_001, "has 16,001 characters; at most 16,000"),
        ("a" * 600 + "\x00", "control character U+0000 at character 601"),
        ("\x1b[31m" + "a" * 600, "control character U+001B at character 1"),
        ("a" * 600 + "\ud800", "lone surrogate at character 601"),
        ("".join(chr(0x4E00 + i) for i in range(600)), "600 different characters; at most 500"),
        (5, "must be text"),
    ],
)
def test_each_bad_text_is_refused_with_what_is_wrong(value: object, phrase: str) -> None:
    with pytest.raises(ValueError, match="text") as refused:
        pretraining.Params(text=value)
    assert phrase in str(refused.value)


def test_line_breaks_become_newlines_and_tabs_stay() -> None:
    text = _own_text.checked_text("a\tb\r\nc\rd " * 100)
    assert "\r" not in text and text.count("\n") == 200 and text.count("\t") == 100


def test_the_held_out_split_is_the_end_of_the_text_cut_at_a_break() -> None:
    train, val = own_text.held_out_split(POEM)
    assert f"{train}\n{val}" == POEM  # cut at a line break, nothing else lost
    assert len(val) >= own_text.MIN_VAL_CHARS and len(train) > len(val)


def test_a_text_without_line_breaks_is_cut_at_a_space_and_one_without_spaces_exactly() -> None:
    words = " ".join(["harbour"] * 100)
    train, val = own_text.held_out_split(words)
    assert words == f"{train} {val}" and len(val) >= own_text.MIN_VAL_CHARS
    solid = "x" * 3000
    train, val = own_text.held_out_split(solid)
    assert train + val == solid and len(val) == 300


def test_our_texts_split_as_before() -> None:
    # The base model's recipe hashes the English split: a change here would rebuild it.
    assert f"{texts.ENGLISH_TRAIN}\n{texts.ENGLISH_VAL}" == texts.ENGLISH
    assert f"{texts.FORECAST_TRAIN}\n{texts.FORECAST_VAL}" == texts.FORECAST


def test_the_prompt_is_the_texts_first_word() -> None:
    assert own_text.opening("\n  Slow rain on the wall") == "Slow "
    assert own_text.opening("x" * 40) == "x" * 12


def test_fitting_to_the_base_vocabulary_keeps_letters_and_marks_what_it_cannot_write() -> None:
    known = set(charlm.LM_VOCAB.chars)
    fitted, replaced = own_text.fit_to_vocab("Café “quoted” — ﬁne!\tend", known)
    assert fitted == "Cafe 'quoted' ? fine? end"
    assert replaced == {"—": 1, "!": 1}
    assert set(fitted) <= known


def test_the_server_keeps_the_size_and_hash_unless_asked_to_keep_the_text() -> None:
    params = pretraining.Params(text=POEM).model_dump(mode="json")
    shown, withheld = pretraining.DEMO.private_split(params)
    assert shown["text"] is None and withheld == {"text": POEM}
    assert shown["text_withheld"] == {"chars": len(POEM), "sha256": hashlib.sha256(POEM.encode()).hexdigest()}
    assert pretraining.DEMO.shown(shown) == shown  # shown params give themselves back
    assert pretraining.DEMO.trained(shown, withheld) == params  # and the worker gets them whole
    kept = pretraining.Params(text=POEM, keep_text=True).model_dump(mode="json")
    assert pretraining.DEMO.private_split(kept) == (kept, {})


def test_pretraining_on_a_readers_text_uses_its_characters_and_its_held_out_end() -> None:
    params = pretraining.Params(text=POEM, steps=60, d_model=32, n_layer=1, pace=0)
    points, _, control = run_inline(pretraining.DEMO, params)
    facts = control.facts
    vocab = set(POEM)
    assert facts["vocab_size"] == len(vocab) and facts["vocabulary"] == "".join(sorted(vocab))
    assert facts["uniform_loss"] == pytest.approx(math.log(len(vocab)))
    assert points[0]["loss"] == pytest.approx(math.log(len(vocab)), abs=0.05)  # a fresh model guesses uniformly
    assert facts["val_chars"] == len(own_text.held_out_split(POEM)[1]) and facts["prompt"] == "Slow "
    samples = [p["sample"] for p in points if "sample" in p]
    assert samples and all(s.startswith("Slow ") and set(s) <= vocab for s in samples)
    assert points[-1]["loss"] < 0.7 * points[0]["loss"]


def test_fine_tuning_on_a_readers_text_says_which_characters_it_replaced() -> None:
    text = POEM.replace(";", "!")
    params = fine_tuning.Params(text=text, steps=12, compare_scratch=False, pace=0)
    points, _, control = run_inline(fine_tuning.DEMO, params)
    facts = control.facts
    assert facts["not_in_vocabulary"] == {"!": text.count("!")} and facts["written_as"] == "?"
    assert facts["new_chars"] == len(own_text.held_out_split(text)[0]) and "yours (936 characters" in facts["new_text"]
    samples = [p["sample"] for p in points if "sample" in p]
    assert samples and all(set(s) <= set(charlm.LM_VOCAB.chars) for s in samples)
