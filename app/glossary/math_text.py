"""Formulas as plain text, so a search snippet shows "4ND" where the page has $4ND$, not a hole."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from app.glossary.markdown import MathError, render_math
from app.glossary.math_typography import APPLY_FUNCTION, local_name

_ONE_PIECE = re.compile(r"\w+")
_SPACED = {"=", "\u2248", "<", ">", "\u2264", "\u2265", "+", "\u2212", "\u00d7", "\u00b7", "\u2192"}
"""Relations and binary operators, spaced in text as on the page."""


def formula_text(latex: str, display: bool) -> str:
    try:
        mathml = render_math(latex, display)
    except MathError:
        return "…"  # the check command reports the formula; a snippet only needs a placeholder
    return _text(ET.fromstring(mathml))


def _text(element: ET.Element) -> str:
    tag = local_name(element)
    if tag == "mfrac":
        return f"{_grouped(element[0])}/{_grouped(element[1])}"
    if tag == "msup":
        return f"{_text(element[0])}^{_grouped(element[1])}"
    if tag == "msqrt":
        return "√" + _bracketed("".join(_text(child) for child in element))
    if tag == "mspace":
        return " "
    own = (element.text or "").strip()
    if tag == "mo" and own in _SPACED and element.get("form") != "prefix":
        return f" {own} "
    if own == APPLY_FUNCTION:  # spaced only where the formula shows a space: log x, but log(x)
        return " " if element.get("rspace", "0") != "0" else ""
    return own + "".join(_text(child) for child in element)


def _grouped(element: ET.Element) -> str:
    """Brackets around a fraction's part or an exponent of more than one piece: (a+b)/2, e^(−x)."""
    return _bracketed(_text(element))


def _bracketed(text: str) -> str:
    return text if _ONE_PIECE.fullmatch(text) else f"({text})"
