"""Typographic fixes on latex2mathml's output, so browsers space formulas as TeX would.

latex2mathml emits a flat row of tokens and leaves spacing to the browser's operator
dictionary, which cannot tell a function name from a variable, a sign from a subtraction, or
a thousands separator from a list comma. MathML Core browsers also set inline fractions at
script size, which on screen is a tiny stack. Each rule below restores what TeX does.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

MATHML = "http://www.w3.org/1998/Math/MathML"
ET.register_namespace("", MATHML)

THIN_SPACE = "0.1667em"
"""TeX's \\, (3/18 em): the space around a function name such as log."""
APPLY_FUNCTION = "\u2061"
"""Invisible operator between a function and its argument; screen readers say 'of'."""

ROWS = {"math", "mrow", "mstyle", "msqrt", "mtd", "mpadded", "mphantom", "menclose", "merror"}
"""Elements whose children are laid out in a line (the others take positional arguments)."""
SCRIPTED = {"msub", "msup", "msubsup", "munder", "mover", "munderover"}
SIGNS = {"\u2212", "+", "\u00b1", "\u2213"}
CLOSING = {")", "]", "}", "|", "\u2016", "\u27e9", "!", "\u2032"}
"""Operators after which a sign is binary, as in (a) − b or n! − 1."""
FUNCTION_NAME = re.compile(r"^[A-Za-z]{2,}$")
"""latex2mathml splits variables into single letters, so a longer name came from \\log, \\max..."""
GROUP_HEAD = re.compile(r"^\d{1,3}(,\d{3})*$")
GROUP_TAIL = re.compile(r"^\d{3}(\.\d+)?$")


def refine(mathml: str, display: bool) -> str:
    root = ET.fromstring(mathml)
    _refine(root, display=display, text_level=True)
    return ET.tostring(root, encoding="unicode")


def local_name(element: ET.Element) -> str:
    return element.tag.rpartition("}")[2]


def _make(tag: str, text: str | None = None, **attributes: str) -> ET.Element:
    element = ET.Element(f"{{{MATHML}}}{tag}", attributes)
    element.text = text
    return element


def _refine(element: ET.Element, display: bool, text_level: bool) -> None:
    """text_level: reached from the formula through rows only, so set at the text's size."""
    is_row = local_name(element) in ROWS
    if is_row:
        _join_digit_groups(element)
        _space_functions(element)
        _mark_signs(element)  # after: a sign right after a function's argument marker is unary
    if local_name(element) == "mfrac" and text_level and not display:
        # Like \dfrac: numerator and denominator at text size, not a script-size stack.
        element.set("displaystyle", "true")
    for child in element:
        _refine(child, display, text_level and is_row)


def _text(element: ET.Element) -> str:
    return (element.text or "").strip()


def _is_group_separator(element: ET.Element) -> bool:
    """TeX's {,}: a comma in braces, the idiom for a thousands separator (58{,}333)."""
    if local_name(element) != "mrow" or len(element) != 1:
        return False
    return local_name(element[0]) == "mo" and _text(element[0]) == ","


def _join_digit_groups(row: ET.Element) -> None:
    """58{,}333 arrives as <mn>58</mn><mrow><mo>,</mo></mrow><mn>333</mn>: one number, unspaced."""
    i = 0
    while i + 2 < len(row):
        head, separator, tail = row[i], row[i + 1], row[i + 2]
        if (
            local_name(head) == "mn"
            and GROUP_HEAD.match(_text(head))
            and _is_group_separator(separator)
            and local_name(tail) == "mn"
            and GROUP_TAIL.match(_text(tail))
        ):
            head.text = f"{_text(head)},{_text(tail)}"
            row.remove(separator)
            row.remove(tail)
        else:
            i += 1


def _ends_operand(element: ET.Element) -> bool:
    """Whether the element closes an operand (x, 2, a closing bracket), not an operator or opening."""
    return local_name(element) != "mo" or _text(element) in CLOSING


def _mark_signs(row: ET.Element) -> None:
    """A minus at the start or after an operator or opening bracket is a sign: no space around it."""
    previous = None
    for child in row:
        if local_name(child) == "mo" and _text(child) in SIGNS and (previous is None or not _ends_operand(previous)):
            child.set("form", "prefix")
        previous = child


def _is_function(element: ET.Element) -> bool:
    if local_name(element) in SCRIPTED:  # log_2 x: the base decides
        return len(element) > 0 and _is_function(element[0])
    return local_name(element) in {"mi", "mo"} and bool(FUNCTION_NAME.match(_text(element)))


def _function_name_token(element: ET.Element) -> ET.Element:
    return _function_name_token(element[0]) if local_name(element) in SCRIPTED else element


def _space_functions(row: ET.Element) -> None:
    """TeX puts a thin space between a function name and a variable on either side (β log Z),
    none before an opening bracket (log(x)); the browser, seeing an identifier, puts none."""
    i = 0
    while i < len(row):
        function = row[i]
        if not _is_function(function):
            i += 1
            continue
        # \max arrives as an <mo>, which the browser would space as an unknown operator.
        name = _function_name_token(function)
        if local_name(name) == "mo":
            name.set("lspace", "0")
            name.set("rspace", "0")
        if i > 0 and _ends_operand(row[i - 1]):
            row.insert(i, _make("mspace", width=THIN_SPACE))
            i += 1
        if i + 1 < len(row):
            following = row[i + 1]
            opens = local_name(following) == "mo" and _text(following) in {"(", "[", "{"}
            spacing = {"lspace": "0", "rspace": "0" if opens else THIN_SPACE}
            row.insert(i + 1, _make("mo", APPLY_FUNCTION, **spacing))
            i += 1
        i += 1
