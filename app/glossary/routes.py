"""Glossary pages (prebuilt HTML) and the JSON API over terms and search."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.app_state import app_state
from app.glossary.content import LEVELS
from app.glossary.markdown import slugify
from app.glossary.search import MAX_QUERY
from app.glossary.site import Site, term_json
from app.web import Page

router = APIRouter()

SearchQuery = Annotated[str, Query(max_length=MAX_QUERY, description=f"At most {MAX_QUERY} characters.")]


def get_site(request: Request) -> Site:
    return app_state(request.app).site


SiteDep = Annotated[Site, Depends(get_site)]


# The prebuilt pages are plain Starlette endpoints: no dependency injection or validation
# layer runs for them, so serving a page costs about as much as returning bytes.


def _prebuilt(request: Request, key: str) -> Response:
    page = get_site(request).pages.get(key)
    if page is None:
        raise HTTPException(404, "No such page.")
    return page.respond(request)


def home(request: Request) -> Response:
    level = request.query_params.get("level")
    if level is not None and level not in LEVELS:
        # A person followed a bad link: the whole list, as a page, with a 422 saying the filter was bad.
        return replace(get_site(request).pages["/"], status_code=422).respond(request)
    return _prebuilt(request, "/" if level is None else f"/?level={level}")


def term_page(request: Request) -> Response:
    slug = request.path_params["slug"]
    glossary = get_site(request).glossary
    # An alias ("GD") or another spelling of the slug ("LoRA", "DPO") leads to the one address.
    key = slugify(slug)
    canonical = (
        glossary.aliases.get(slug) or glossary.aliases.get(key) or (key in glossary.terms and key != slug and key)
    )
    if canonical:
        return RedirectResponse(f"/terms/{canonical}", status_code=301)
    return _prebuilt(request, f"/terms/{slug}")


def category_page(request: Request) -> Response:
    return _prebuilt(request, f"/categories/{request.path_params['slug']}")


router.add_route("/", home, methods=["GET", "HEAD"], include_in_schema=False)
router.add_route("/terms/{slug}", term_page, methods=["GET", "HEAD"], include_in_schema=False)
router.add_route("/categories/{slug}", category_page, methods=["GET", "HEAD"], include_in_schema=False)


@router.get("/search", response_class=HTMLResponse, include_in_schema=False)
def search_page(site: SiteDep, q: SearchQuery = "") -> HTMLResponse:
    return HTMLResponse(site.render("search.html", query=q, hits=site.search.search(q)))


@router.get("/search/suggest", response_class=HTMLResponse, include_in_schema=False)
def search_suggest(site: SiteDep, q: SearchQuery = "") -> HTMLResponse:
    return HTMLResponse(site.render("partials/suggestions.html", query=q, hits=site.search.search(q, limit=8)))


@router.get("/api/terms", tags=["glossary"])
def list_terms(site: SiteDep) -> list[dict]:
    return [term_json(t) for t in site.glossary.sorted_terms()]


@router.get("/api/terms/{slug}", tags=["glossary"])
def get_term(slug: str, site: SiteDep) -> dict:
    term = site.glossary.terms.get(site.glossary.aliases.get(slug, slug))
    if term is None:
        raise HTTPException(404, f"No term '{slug}'.")
    return term_json(term, with_html=True)


@router.get("/api/search", tags=["glossary"])
def search(site: SiteDep, q: Annotated[str, Query(min_length=1, max_length=MAX_QUERY)]) -> dict:
    hits = site.search.search(q)
    return {
        "query": q,
        "corrected": list(hits[0].corrected) if hits else [],
        "results": [term_json(h.term) | {"snippet": h.snippet_html} for h in hits],
    }


# Anyone can send any path, and typo correction costs a full-text query per word: a 404 guesses
# from a few plausible words of the last path segment only (a slug someone mistyped), never more.
NOT_FOUND_WORDS = 3
NOT_FOUND_WORD_CHARS = (2, 24)


def not_found_query(path: str) -> str:
    """The words a 404 page searches for: the first few of the path's last segment."""
    shortest, longest = NOT_FOUND_WORD_CHARS
    last_segment = path.rstrip("/").rsplit("/", 1)[-1]
    words = [w for w in re.split(r"[^A-Za-z0-9]+", last_segment) if shortest <= len(w) <= longest]
    return " ".join(words[:NOT_FOUND_WORDS])


def not_found_page(site: Site, path: str) -> Page:
    """A 404 that suggests the terms closest to what the reader typed. Searching, rendering and
    compressing take milliseconds: call it off the event loop. A path names a term, so only terms
    found by a name are suggested: '/terms/nope' is no typo of a word in some page's body."""
    query = not_found_query(path)
    hits = [hit for hit in site.search.search(query, limit=5) if hit.by_name] if query else []
    return Page.build(site.render("not_found.html", path=path, hits=hits), 404)
