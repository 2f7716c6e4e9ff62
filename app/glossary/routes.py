"""Glossary pages (prebuilt HTML) and the JSON API over terms and search."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.glossary.search import MAX_QUERY
from app.glossary.site import Site, term_json
from app.web import Page

router = APIRouter()

SearchQuery = Annotated[str, Query(max_length=MAX_QUERY, description=f"At most {MAX_QUERY} characters.")]


def get_site(request: Request) -> Site:
    return request.app.state.site


SiteDep = Annotated[Site, Depends(get_site)]


def _prebuilt(site: Site, request: Request, key: str) -> Response:
    page = site.pages.get(key)
    if page is None:
        raise HTTPException(404, "No such page.")
    return page.respond(request)


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def home(
    request: Request,
    site: SiteDep,
    level: Annotated[Literal["beginner", "intermediate", "advanced"] | None, Query()] = None,
) -> Response:
    return _prebuilt(site, request, "/" if level is None else f"/?level={level}")


@router.get("/terms/{slug}", response_class=HTMLResponse, include_in_schema=False)
def term_page(slug: str, request: Request, site: SiteDep) -> Response:
    canonical = site.glossary.aliases.get(slug)
    if canonical:
        return RedirectResponse(f"/terms/{canonical}", status_code=301)
    return _prebuilt(site, request, f"/terms/{slug}")


@router.get("/categories/{slug}", response_class=HTMLResponse, include_in_schema=False)
def category_page(slug: str, request: Request, site: SiteDep) -> Response:
    return _prebuilt(site, request, f"/categories/{slug}")


@router.get("/search", response_class=HTMLResponse, include_in_schema=False)
def search_page(site: SiteDep, q: SearchQuery = "") -> HTMLResponse:
    return HTMLResponse(site.render("search.html", query=q, hits=site.search.search(q)))


@router.get("/search/suggest", response_class=HTMLResponse, include_in_schema=False)
def search_suggest(site: SiteDep, q: SearchQuery = "") -> HTMLResponse:
    return HTMLResponse(
        site.render("partials/suggestions.html", query=q, hits=site.search.search(q, limit=8))
    )


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


def not_found_page(site: Site, path: str) -> Page:
    """A 404 that suggests the terms closest to what the reader typed."""
    words = path.strip("/").split("/")[-1].replace("-", " ")[:MAX_QUERY]
    return Page.build(site.render("not_found.html", path=path, hits=site.search.search(words, limit=5)), 404)
