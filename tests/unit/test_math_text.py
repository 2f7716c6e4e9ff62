"""Formulas as the plain text that search snippets show."""

from __future__ import annotations

from app.glossary.math_text import formula_text


def test_fractions_powers_and_roots_read_in_one_line_with_brackets_where_needed() -> None:
    assert formula_text(r"\frac{a+b}{2} - \sqrt{d_k} + e^{-x}", display=False) == "(a + b)/2 − √dk + e^(−x)"


def test_function_names_signs_and_grouped_digits_read_as_on_the_page() -> None:
    assert formula_text(r"\beta\log Z(x) = -58{,}333", display=True) == "β log Z(x) = −58,333"


def test_a_formula_that_does_not_convert_is_an_ellipsis() -> None:
    assert formula_text(r"\unknownmacro x", display=False) == "…"
