"""Markdown to HTML on the server: MathML for formulas, Pygments for code, anchors on headings.

Raw HTML in content is disabled, so a term page can never inject markup or script.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

from latex2mathml.converter import convert as latex_to_mathml
from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.anchors import anchors_plugin
from mdit_py_plugins.dollarmath import dollarmath_plugin
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

from app.glossary.math_typography import refine

MATH_TOKENS = {"math_inline": False, "math_inline_double": True, "math_block": True, "math_block_label": True}
"""dollarmath's token types, each with whether it is display math."""
TERM_LINK = re.compile(r"^/terms/(?P<slug>[a-z0-9-]+)(?:#[\w-]+)?$")


class MathError(ValueError):
    """A formula that does not convert cleanly to MathML."""


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def render_math(latex: str, display: bool) -> str:
    """LaTeX to MathML. Raises MathError for anything latex2mathml could not understand."""
    try:
        mathml = latex_to_mathml(latex, display="block" if display else "inline")
    except Exception as error:  # latex2mathml raises many exception types for bad input
        raise MathError(f"formula does not convert: {error} in ${latex}$") from error
    # An unknown macro survives as literal text such as <mi>\foo</mi>; an unsupported
    # alignment environment leaves a bare '&' token. Both would show garbage to a reader.
    leftover = re.search(r">(\\[A-Za-z]+)<", mathml)
    if leftover:
        raise MathError(f"unknown LaTeX macro {leftover.group(1)} in ${latex}$")
    if re.search(r"<m[io]>&(amp;)?</m[io]>", mathml):
        raise MathError(f"alignment '&' is not supported (one equation per block) in ${latex}$")
    return refine(mathml, display)


def _highlight_code(code: str, lang: str, _attrs: str) -> str:
    try:
        lexer = get_lexer_by_name(lang or "text")
    except ClassNotFound:
        return ""  # markdown-it then escapes the code itself
    return highlight(code, lexer, HtmlFormatter(nowrap=True))


@dataclass
class Rendered:
    html: str
    headings: list[tuple[str, str]] = field(default_factory=list)
    """(anchor id, text) of every h2, in order: the page's table of contents."""
    term_links: list[tuple[str, int]] = field(default_factory=list)
    """(slug, 1-based line within the body) of every link to another term."""
    math_errors: list[tuple[str, int]] = field(default_factory=list)
    """(message, line) of every formula that did not convert."""


class MarkdownRenderer:
    def __init__(self) -> None:
        self._md = (
            MarkdownIt("commonmark", {"html": False, "typographer": True, "highlight": _highlight_code})
            .enable(["table", "strikethrough", "replacements", "smartquotes"])
            .use(dollarmath_plugin, allow_digits=False, double_inline=True)
            .use(
                anchors_plugin,
                min_level=2,
                max_level=3,
                slug_func=slugify,
                permalink=True,
                permalinkSymbol="#",
            )
        )
        for math_type in MATH_TOKENS:
            self._md.add_render_rule(math_type, _math_rule)
        self._md.add_render_rule("link_open", self._link_rule)

    def render(self, source: str) -> Rendered:
        tokens = self._md.parse(source)
        math_errors = _convert_math(tokens)  # before rendering, while each token's line is known
        return Rendered(
            html=self._md.renderer.render(tokens, self._md.options, {}),
            headings=_headings(tokens),
            term_links=list(_term_links(tokens)),
            math_errors=math_errors,
        )

    @staticmethod
    def _link_rule(self_, tokens: list[Token], idx: int, options, env) -> str:
        token = tokens[idx]
        href = _text_attr(token, "href")
        if href.startswith(("http://", "https://")):
            token.attrSet("rel", "noopener")
            token.attrSet("class", "external")
        return self_.renderToken(tokens, idx, options, env)


def _text_attr(token: Token, name: str) -> str:
    """A token's attribute as text, "" when absent; markdown-it types attributes as str | int | float,
    and the ones read here (href, id) are always written as text."""
    value = token.attrGet(name)
    return value if isinstance(value, str) else ""


def _blocks_with_lines(tokens: list[Token]):
    """Each token with its 1-based source line; inline tokens take their paragraph's line."""
    for block in tokens:
        line = (block.map[0] + 1) if block.map else 1
        yield block, line
        for child in block.children or []:
            yield child, line


def _convert_math(tokens: list[Token]) -> list[tuple[str, int]]:
    """Converts every formula once, into token.meta["mathml"]; returns (message, line) of failures."""
    errors = []
    for token, line in _blocks_with_lines(tokens):
        if token.type in MATH_TOKENS:
            try:
                token.meta["mathml"] = render_math(token.content.strip(), MATH_TOKENS[token.type])
            except MathError as error:
                errors.append((str(error), line))
    return errors


def _math_rule(_self, tokens: list[Token], idx: int, _options, _env) -> str:
    token = tokens[idx]
    mathml = token.meta.get("mathml")
    if mathml is None:  # did not convert: show the source, marked (check reports it)
        return f'<code class="math-error">{html.escape(token.content)}</code>'
    return f'<div class="math-display">{mathml}</div>' if token.block else mathml


def _headings(tokens: list[Token]) -> list[tuple[str, str]]:
    found = []
    for i, token in enumerate(tokens):
        if token.type == "heading_open" and token.tag == "h2":
            text = "".join(c.content for c in tokens[i + 1].children or [] if c.type == "text")
            found.append((_text_attr(token, "id") or slugify(text), text.strip()))
    return found


def _term_links(tokens: list[Token]):
    for token, line in _blocks_with_lines(tokens):
        href = _text_attr(token, "href") if token.type == "link_open" else ""
        if href.startswith("/terms"):
            match = TERM_LINK.match(href)
            yield (match.group("slug") if match else href, line)
