"""The MathML the math pipeline emits is spaced as TeX would set it."""

from __future__ import annotations

import re

from app.glossary.markdown import render_math


def tokens(latex: str, display: bool = False) -> str:
    """The formula's elements as compact text, attributes kept, the namespace and wrapper dropped."""
    mathml = render_math(latex, display)
    inner = re.search(r"<math[^>]*>(.*)</math>", mathml, re.S).group(1)
    return re.sub(r"\s*/>", "/>", inner)


def test_a_function_name_is_set_off_by_thin_spaces_from_the_variables_around_it() -> None:
    assert tokens(r"\beta\log Z") == (
        '<mrow><mi>β</mi><mspace width="0.1667em"/><mi>log</mi>'
        '<mo lspace="0" rspace="0.1667em">\u2061</mo><mi>Z</mi></mrow>'
    )


def test_a_function_name_touches_its_opening_bracket() -> None:
    assert '<mi>log</mi><mo lspace="0" rspace="0">\u2061</mo><mo stretchy="false">(</mo>' in tokens(r"\log(x)")


def test_a_subscripted_function_name_is_spaced_like_the_name() -> None:
    assert '</msub><mo lspace="0" rspace="0.1667em">\u2061</mo><mi>x</mi>' in tokens(r"\log_2 x")


def test_a_limit_style_name_drops_the_browsers_operator_spacing() -> None:
    assert tokens(r"\max(0, x)").startswith('<mrow><mo lspace="0" rspace="0">max</mo>')


def test_a_minus_after_an_opening_bracket_or_relation_is_a_sign() -> None:
    assert '<mo stretchy="false">(</mo><mo form="prefix">−</mo><mn>0.3</mn>' in tokens(r"\sigma(-0.3)")
    assert '<mo>=</mo><mo form="prefix">−</mo>' in tokens(r"y = -1")


def test_a_minus_between_operands_stays_a_subtraction() -> None:
    assert "<mi>a</mi><mo>−</mo><mi>b</mi>" in tokens("a - b")
    assert '<mo stretchy="false">)</mo><mo>−</mo><mi>b</mi>' in tokens("(a) - b")


def test_braced_commas_are_thousands_separators_inside_one_number() -> None:
    expected = "<mrow><mn>2,097,152</mn><mo>\u00b7</mo><mn>58,333.5</mn></mrow>"
    assert tokens(r"2{,}097{,}152 \cdot 58{,}333.5") == expected


def test_a_list_comma_is_left_alone() -> None:
    assert "<mn>1</mn><mo>,</mo><mn>2</mn>" in tokens("(1, 2)")


def test_an_inline_fraction_is_set_at_text_size() -> None:
    assert '<mfrac displaystyle="true">' in tokens(r"\frac{1}{2} x")


def test_fractions_in_scripts_and_display_formulas_keep_their_default_style() -> None:
    assert "<mfrac>" in tokens(r"e^{\frac{1}{2}}")
    assert "<mfrac>" in tokens(r"\frac{1}{2}", display=True)


def test_a_function_name_after_a_closing_bracket_is_spaced_from_it() -> None:
    assert '<mo stretchy="false">)</mo><mspace width="0.1667em"/><mi>exp</mi>' in tokens(r"f(x)\exp y")
