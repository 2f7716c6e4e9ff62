"""Link previews: GET /terms/{slug}/preview, a small card (title, level, summary) as an HTML
fragment that static/js/previews.js loads with htmx when a reader hovers or focuses a term link.

Each card is rendered once, on first request, and kept with the site's prebuilt pages (ETag,
gzip), so a browser revalidates it with a cheap 304."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from app.glossary.routes import SiteDep
from app.web import Page

router = APIRouter(include_in_schema=False)


@router.get("/terms/{slug}/preview", response_class=HTMLResponse)
def term_preview(slug: str, request: Request, site: SiteDep) -> Response:
    slug = site.glossary.aliases.get(slug, slug)
    term = site.glossary.terms.get(slug)
    if term is None:
        raise HTTPException(404, f"No term '{slug}'.")
    path = f"/terms/{slug}/preview"
    page = site.pages.get(path)
    if page is None:
        category = site.glossary.categories[term.category]
        page = site.pages[path] = Page.build(site.render("partials/preview.html", term=term, category=category))
    return page.respond(request)
