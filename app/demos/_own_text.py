"""A reader's own text as training data: the `text` param of the pretraining and fine-tuning
playgrounds, its checks, and what the server keeps of it (its held-out split and its fit to a
fixed vocabulary, which the training does, are in app.ml.own_text).

Not a demo (no DEMO), and torch-free: the web process checks params with it.
"""

from __future__ import annotations

import hashlib
import unicodedata
from typing import Any

from pydantic import Field, field_validator

from app.demos.base import DemoParams
from app.ml.own_text import PLACEHOLDER, SAME_AS

MIN_CHARS = 500
MAX_CHARS = 16_000
"""The limit on a POST's body is sized for the longest text in its longest form, every character
escaped as JSON may escape it (app.playground.http.routes.MAX_BODY_BYTES)."""
MAX_DISTINCT_CHARS = 500
"""Each character is a row of the model's input and output layers: 3,000 of them (Chinese, say)
make a default pretraining run take 25 s of CPU instead of 11 s; 500 keep it near 13 s."""
LINE_CONTROLS = "\n\t"  # the only control characters a text may hold (after \r\n -> \n)


def text_field(fitted_to: str = "") -> Any:
    """The `text` param. `fitted_to`: the characters of the base model's vocabulary, where the
    training fits the text to them (app.ml.own_text.fit_to_vocab): the panel then says, as the
    reader types, which characters will be written as PLACEHOLDER, before the run."""
    extra: dict[str, Any] = {"widget": "textarea", "min_chars": MIN_CHARS, "private": True}
    if fitted_to:
        extra["vocabulary"] = {"chars": fitted_to, "placeholder": PLACEHOLDER, "same_as": SAME_AS}
    return Field(
        None,
        min_length=MIN_CHARS,  # for the schema: checked_text says it first, in its own words
        max_length=MAX_CHARS,
        title="Your own text",
        description=f"Train on this instead of our text: {MIN_CHARS} to {MAX_CHARS:,} characters, "
        "pasted or from a .txt file. A tenth of it is held out for the validation loss.",
        json_schema_extra=extra,
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


def withhold_text(params: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(shown, withheld) params (see `Demo.withhold`): what the server keeps and shows holds a
    reader's text as its size and hash only, unless they asked to keep it with the run."""
    text = params.get("text")
    if text is None or params.get("keep_text"):
        return params, {}
    fingerprint = {"chars": len(text), "sha256": hashlib.sha256(text.encode()).hexdigest()}
    return params | {"text": None, "text_withheld": fingerprint}, {"text": text}
