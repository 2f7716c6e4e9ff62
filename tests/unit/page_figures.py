"""What the tests that tie a page's quoted figures to fresh runs share (tests/unit/test_figures_*.py)."""

from __future__ import annotations

import yaml

from app.glossary.content import split_front_matter
from tests.unit.test_worked_examples import page_text


def as_read(slug: str) -> str:
    """A page's body and exercise answers as a reader sees them: YAML's quoting and line wraps undone."""
    front, body, _ = split_front_matter(page_text(slug))
    answers = [exercise["answer"] for exercise in yaml.safe_load(front)["exercises"]]
    return " ".join(" ".join([body, *answers]).split()).replace("''", "'")


def percent(value: float) -> str:
    return f"{value:.0%}"
