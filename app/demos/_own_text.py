"""A reader's own text as training data: the `text` param of the pretraining and fine-tuning
playgrounds, its checks, its held-out split, its fit to a fixed vocabulary, and what the server
keeps of it.

Not a demo (no DEMO), and torch-free: the web process checks params with it.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections import Counter
from typing import Any

from pydantic import Field, field_validator

from app.demos.base import DemoParams
from app.ml import texts

MIN_CHARS = 500
MAX_CHARS = 16_000
"""At most 4 bytes a character in UTF-8: the longest text and the other params stay under the
64 KiB limit on a POST's body, so these two demos need no exception to it."""
MAX_DISTINCT_CHARS = 500
"""Each character is a row of the model's input and output layers: 3,000 of them (Chinese, say)
make a default pretraining run take 25 s of CPU instead of 11 s; 500 keep it near 13 s."""
VAL_FRACTION = 0.1
MIN_VAL_CHARS = 130  # room for validation windows of 64 characters and their targets
LINE_CONTROLS = "\n\t"  # the only control characters a text may hold (after \r\n -> \n)
PLACEHOLDER = "?"
"""What fine-tuning writes for a character its base model has no id for (see `fit_to_vocab`)."""
QUOTES = str.maketrans(dict.fromkeys('‘’‚‛′`´“”„‟″"', "'") | {"\t": " "})
"""Typographic quotes and the double quote become the vocabulary's one quote, a tab a space."""


def text_field() -> Any:
    return Field(
        None,
        max_length=MAX_CHARS,
        title="Your own text",
        description=f"Train on this instead of our text: {MIN_CHARS} to {MAX_CHARS:,} characters, "
        "pasted or from a .txt file. A tenth of it is held out for the validation loss.",
        json_schema_extra={"widget": "textarea", "min_chars": MIN_CHARS, "private": True},
    )


def keep_text_field() -> Any:
    return Field(
        False,
        title="Keep my text with the run's permalink",
        description="Off: the server keeps only your text's size and SHA-256 hash, not the text, and "
        "the permalink, share link and script leave it out.",
    )


class OwnTextParams(DemoParams):
    """Params of a demo that may train on a reader's text. The demo declares `text` and
    `keep_text` itself, last, so they come at the end of its panel."""

    @field_validator("text", mode="before", check_fields=False)
    @classmethod
    def _plain_text(cls, value: Any) -> Any:
        return value if value is None else checked_text(value)


def checked_text(value: Any) -> str:
    """The text with its line breaks made \\n, or a ValueError that says what is wrong with it."""
    if not isinstance(value, str):
        raise ValueError("must be text (a JSON string), or null for our text")
    text = value.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise ValueError(f"is empty: give at least {MIN_CHARS} characters, or leave it out to train on our text")
    for at, char in enumerate(text, 1):
        category = unicodedata.category(char)
        if category == "Cs":
            raise ValueError(f"is not valid Unicode (a lone surrogate at character {at:,})")
        if category == "Cc" and char not in LINE_CONTROLS:
            raise ValueError(
                f"holds the control character U+{ord(char):04X} at character {at:,}; a text may hold only "
                "line breaks and tabs (is the file really text?)"
            )
    if len(text) < MIN_CHARS:
        raise ValueError(f"has {len(text):,} characters; at least {MIN_CHARS} are needed")
    if len(text) > MAX_CHARS:
        raise ValueError(f"has {len(text):,} characters; at most {MAX_CHARS:,} fit in one run")
    if (distinct := len(set(text))) > MAX_DISTINCT_CHARS:
        raise ValueError(f"has {distinct:,} different characters; at most {MAX_DISTINCT_CHARS} keep a run short")
    return text


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


def withhold_text(params: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(shown, withheld) params (see `Demo.withhold`): what the server keeps and shows holds a
    reader's text as its size and hash only, unless they asked to keep it with the run."""
    text = params.get("text")
    if text is None or params.get("keep_text"):
        return params, {}
    fingerprint = {"chars": len(text), "sha256": hashlib.sha256(text.encode()).hexdigest()}
    return params | {"text": None, "text_withheld": fingerprint}, {"text": text}
