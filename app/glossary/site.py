"""The glossary as served: loaded content, its search index, and every page prerendered."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from jinja2 import Environment

from app.glossary.content import LEVELS, Glossary, Term
from app.glossary.search import SearchIndex
from app.web import Page

PanelRenderer = Callable[[str], str]
"""Renders the playground panel of a demo by name (supplied by the playground package)."""


def term_json(term: Term, with_html: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "slug": term.slug,
        "title": term.meta.title,
        "category": term.category,
        "level": term.meta.level,
        "summary": term.meta.summary,
        "aliases": term.meta.aliases,
        "demo": term.meta.demo,
        "url": term.url,
    }
    if with_html:
        data |= {
            "html": term.body.html,
            "related": term.meta.related,
            "mentioned_in": term.backlinks,
            "references": [r.model_dump() for r in term.meta.references],
        }
    return data


@dataclass
class Site:
    glossary: Glossary
    templates: Environment
    search: SearchIndex
    pages: dict[str, Page] = field(default_factory=dict)

    def render(self, template: str, **context: Any) -> str:
        return self.templates.get_template(template).render(glossary=self.glossary, **context)

    def letters(self) -> Mapping[str, list[Term]]:
        groups: dict[str, list[Term]] = {}
        for term in self.glossary.sorted_terms():
            groups.setdefault(term.meta.title[0].upper(), []).append(term)
        return groups


def build_site(glossary: Glossary, templates: Environment, panel: PanelRenderer) -> Site:
    site = Site(glossary, templates, SearchIndex(glossary))
    by_level = {level: [t for t in glossary.sorted_terms() if t.meta.level == level] for level in LEVELS}
    # The filter offers only levels that hold terms; a level left empty by the content (the
    # glossary rates no training term beginner) still answers its old links, saying so and
    # pointing to the start of the learning path instead of showing a bare empty grid.
    filter_levels = {level: len(terms) for level, terms in by_level.items() if terms}
    path = glossary.learning_path()
    for level in (None, *LEVELS):
        key = "/" if level is None else f"/?level={level}"
        site.pages[key] = Page.build(
            site.render(
                "index.html",
                terms=glossary.sorted_terms() if level is None else by_level[level],
                level=level,
                filter_levels=filter_levels,
                path_start=path[0] if path else None,
                letters=site.letters(),
            )
        )
    for category in glossary.categories.values():
        site.pages[category.url] = Page.build(site.render("category.html", category=category))
    for term in glossary.terms.values():
        previous, following = glossary.neighbours(term)
        site.pages[term.url] = Page.build(
            site.render(
                "term.html",
                term=term,
                category=glossary.categories[term.category],
                previous=previous,
                next=following,
                panel=panel(term.meta.demo) if term.meta.demo else "",
            )
        )
    return site
