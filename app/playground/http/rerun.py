"""'Run again with these settings': a stored run's starting params as its panel's share link."""

from __future__ import annotations

from collections.abc import Container
from typing import Any
from urllib.parse import urlencode

from app.demos.base import Demo


def share_value(value: Any) -> str:
    """A param as the share link writes it (state.js formatValue): lists comma-joined, JS booleans."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(map(share_value, value))
    return str(value)


def rerun_url(demo: Demo, params: dict[str, Any], term_slugs: Container[str]) -> str:
    """The demo's term page (or the playground index) with the form set to these params."""
    page = next((f"/terms/{slug}" for slug in demo.terms if slug in term_slugs), "/playground")
    shared = demo.link_params(params)  # never a reader's text, kept or not
    query = urlencode({"demo": demo.name} | {name: share_value(value) for name, value in shared.items()})
    return f"{page}?{query}#playground-{demo.name}"
