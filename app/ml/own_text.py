"""A reader's own text, as the training uses it: its held-out split, the prompt of its samples,
its fit to a fixed vocabulary, and how a run names it. Torch-free; the checks of the text itself
are in app.demos._own_text.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from typing import Any

from app.ml import texts

VAL_FRACTION = 0.1
MIN_VAL_CHARS = 130  # room for validation windows of 64 characters and their targets
PLACEHOLDER = "?"
"""What fine-tuning writes for a character its base model has no id for (see `fit_to_vocab`)."""
SAME_AS = dict.fromkeys('‘’‚‛′`´“”„‟″"', "'") | {"\t": " "}
"""Typographic quotes and the double quote become the vocabulary's one quote, a tab a space."""
QUOTES = str.maketrans(SAME_AS)


def described(params: Any, ours: str) -> str:
    """Which text a run trains on, for its `start` event (`ours` names the demo's own)."""
    if params.text is None:
        return ours
    kept = "kept with the run" if params.keep_text else "not kept: the server keeps its size and hash only"
    return f"yours ({len(params.text):,} characters, {kept})"


def held_out_split(text: str) -> tuple[str, str]:
    """(train, val) of a reader's text, as our texts are split: the end is held out."""
    return texts.split(text, VAL_FRACTION, MIN_VAL_CHARS)


def opening(text: str, max_chars: int = 12) -> str:
    """The text's first word and its space (at most max_chars): the prompt of samples from a model
    trained on it, made of characters the text has."""
    start = text.lstrip()
    space = start.find(" ", 1)
    return start[: space + 1 if 0 < space < max_chars else max_chars]


def fit_to_vocab(text: str, known: set[str]) -> tuple[str, dict[str, int]]:
    """The text in a fixed vocabulary's characters, and how often each character it had no place
    for occurred. Quotes become ', accents are dropped (é -> e, ﬁ -> fi); any other unknown
    character becomes PLACEHOLDER, so the text keeps its words and layout."""
    fitted: list[str] = []
    replaced: Counter[str] = Counter()
    for char in text.translate(QUOTES):
        if char not in known:
            plain = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
            if plain and set(plain) <= known:
                char = plain
            else:
                replaced[char] += 1
                char = PLACEHOLDER
        fitted.append(char)
    return "".join(fitted), dict(replaced.most_common())
