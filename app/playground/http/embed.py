"""Embeddable playgrounds: the panel alone, for a course page's <iframe>.

`/embed/{demo}` takes the share link's params (`?lr=0.15&steps=80`) plus `hide=steps,seed`
(hide those controls), `controls=lr` (show only those) and `autoplay=1` (start a run at once);
static/js/embed.js applies them. `/embed/runs/{id}` shows a run, as its permalink does.

Framing is refused everywhere (CSP `frame-ancestors 'none'`) except on these pages, which name
the origins the host allows in MODELTERMS_EMBED_ORIGINS (none by default).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from app.app_state import app_state
from app.glossary.routes import SiteDep
from app.playground.http.routes import DemoDep, EngineDep, find_run_and_demo, run_json
from app.settings import Settings
from app.web import content_security_policy

router = APIRouter(include_in_schema=False)


def frame_ancestors(settings: Settings) -> str:
    return " ".join(settings.embed_origins) or "'none'"


def embed_page(request: Request, html: str) -> HTMLResponse:
    policy = content_security_policy(frame_ancestors(app_state(request.app).settings))
    return HTMLResponse(html, headers={"Content-Security-Policy": policy, "Cache-Control": "no-cache"})


@router.get("/embed/runs/{run_id}", response_class=HTMLResponse)
async def embed_run(run_id: str, request: Request, site: SiteDep, engine: EngineDep) -> HTMLResponse:
    run, demo = await find_run_and_demo(engine, run_id, request)
    panel = app_state(request.app).panel(demo.name, run_id=run_id)
    return embed_page(request, site.render("embed.html", demo=demo, panel=panel, run=run_json(engine, run)))


@router.get("/embed/{name}", response_class=HTMLResponse)
def embed_demo(demo: DemoDep, request: Request, site: SiteDep) -> HTMLResponse:
    return embed_page(request, site.render("embed.html", demo=demo, panel=app_state(request.app).panel(demo.name)))
