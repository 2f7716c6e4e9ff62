"""create_app(settings) -> FastAPI. The web process never imports torch."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.app_state import AppState, app_state
from app.classes.board import ClassFeeds
from app.classes.routes import router as classes_router
from app.classes.steering import router as steering_router
from app.classes.store import ClassStore
from app.demos import Demo, load_demos
from app.glossary.content import Glossary, load_glossary
from app.glossary.previews import router as previews_router
from app.glossary.routes import not_found_page
from app.glossary.routes import router as glossary_router
from app.glossary.site import Site, build_site
from app.glossary.tools.calculator import router as calculator_router
from app.openapi import schema_builder
from app.playground.core.interface import RunEngine, Unavailable
from app.playground.core.service import RunService
from app.playground.http.embed import router as embed_router
from app.playground.http.panel import PanelRenderer, panel_renderer
from app.playground.http.routes import router as playground_router
from app.playground.http.script_route import router as script_router
from app.settings import Settings, get_settings
from app.web import (
    STATIC,
    HeadAndOptions,
    Page,
    PlainServerErrors,
    SecurityHeaders,
    asset_version,
    describe_errors,
    make_templates,
)


class ContentError(RuntimeError):
    """The content has problems; the server refuses to start on it."""


def demos_in_learning_order(demos: dict[str, Demo], glossary: Glossary) -> list[Demo]:
    """The playground index follows the terms' learning path, so it opens with the basics."""
    unplaced = len(glossary.terms)
    return sorted(demos.values(), key=lambda d: min((glossary.place(s) for s in d.terms), default=unplaced))


@dataclass(frozen=True)
class Content:
    """What an app serves that only its demos and Markdown terms decide: the pages (every formula
    set as MathML), the search index, the playground panels. Seconds of work, which many apps in
    one process (the tests) may share: nothing here changes while the app serves."""

    demos: dict[str, Demo]
    glossary: Glossary
    site: Site
    panel: PanelRenderer


def build_content(content_dirs: Sequence[Path], extra_demo_modules: Sequence[str]) -> Content:
    demos = load_demos(list(extra_demo_modules))
    glossary = load_glossary(list(content_dirs), demos)
    if glossary.problems:
        raise ContentError("content has problems:\n" + "\n".join(map(str, glossary.problems)))
    templates = make_templates(asset_version())
    panel = panel_renderer(templates, demos)
    site = build_site(glossary, templates, panel)
    site.pages["/playground"] = Page.build(
        site.render(
            "playground.html",
            demos=demos_in_learning_order(demos, glossary),
            panels={name: panel(name) for name in demos},
        )
    )
    site.pages["/docs"] = Page.build(site.render("api_docs.html"))
    return Content(demos, glossary, site, panel)


def create_app(settings: Settings | None = None, content: Content | None = None) -> FastAPI:
    """The app on `settings`, serving `content` (built from the settings' content folders and
    demo modules when not given)."""
    settings = settings or get_settings()
    content = content or build_content(settings.content_dirs, settings.extra_demo_modules)
    demos, glossary, site, panel = content.demos, content.glossary, content.site, content.panel
    engine = make_engine(settings)
    classes = make_class_store(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await engine.start()
        await classes.open()
        # Everything built so far (content, pages, search index, routes) lives until exit:
        # moving it out of the collector's reach keeps full collections short, and with
        # them the slowest page responses.
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            await classes.close()
            await engine.stop()

    app = FastAPI(
        title="ModelTerms",
        summary="An interactive glossary of how language models are trained, with live playgrounds.",
        version="0.1.0",
        lifespan=lifespan,
        # FastAPI's own docs pages load Swagger UI from a CDN with an inline script, which the
        # site's CSP blocks: /docs below serves the npm copy with a static start-up script.
        docs_url=None,
        redoc_url=None,
    )
    # FastAPI's documented way to serve a schema of one's own is to replace this method.
    app.openapi = schema_builder(app, demos)  # type: ignore[method-assign]
    app.state = AppState(
        settings=settings,
        site=site,
        engine=engine,
        classes=classes,
        class_feeds=ClassFeeds(),
        demos=demos,
        panel=panel,
    )

    @app.get("/healthz", tags=["ops"])
    def healthz() -> dict:
        """Liveness: 200 while the process serves. Readiness: `ready`, and `waiting_for` says what
        a run posted now would wait on (a load balancer or an orchestrator routes by it)."""
        health = engine.health()
        status = "ok" if health["store"] == "ok" else "degraded"  # runs train, but are not being saved
        waiting_for = readiness(health, settings)
        return {
            "status": status,
            "ready": not waiting_for,
            "waiting_for": waiting_for,
            "terms": len(glossary.terms),
            "demos": len(demos),
            **health,
        }

    @app.api_route("/docs", methods=["GET", "HEAD"], include_in_schema=False)
    def api_docs(request: Request) -> Response:
        return site.pages["/docs"].respond(request)

    app.include_router(previews_router)
    app.include_router(glossary_router)
    app.include_router(playground_router)
    app.include_router(calculator_router)
    app.include_router(script_router)
    app.include_router(embed_router)
    app.include_router(classes_router)
    app.include_router(steering_router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_middleware(HeadAndOptions)
    app.add_middleware(PlainServerErrors)  # inside SecurityHeaders, so a 500 has them too
    app.add_middleware(SecurityHeaders)
    _install_error_handlers(app)
    return app


def readiness(health: dict, settings: Settings) -> list[str]:
    """What keeps a run posted now from starting at once, read from the engine's health (empty:
    ready). The embedded engine wants every one of its workers up (each loads PyTorch as the server
    starts, and is replaced if it dies); a Redis replica wants Redis and one worker anywhere."""
    if settings.redis_url:
        if health["redis"] != "ok":
            return [f"Redis: {health['redis']}"]
        return [] if health["workers_ready"] else ["a training worker: none is connected (start `modelterms worker`)"]
    ready = health["workers_ready"]
    if ready < settings.workers:
        return [f"training workers: {ready} of {settings.workers} ready (each loads PyTorch when it starts)"]
    return []


def make_engine(settings: Settings) -> RunEngine[Any]:
    """One RunService over the embedded transport by default; with a Redis URL, over the stateless
    Redis transport."""
    if settings.redis_url:
        from app.playground.redis.transport import RedisTransport

        return RunService(settings, RedisTransport(settings))
    from app.playground.embedded.transport import EmbeddedTransport

    return RunService(settings, EmbeddedTransport(settings))


def make_class_store(settings: Settings) -> ClassStore:
    """Classes live where runs live: beside the embedded engine's SQLite, or in its Redis."""
    if settings.redis_url:
        from app.classes.redis_store import RedisClassStore

        return RedisClassStore(settings.redis_url, settings.redis_prefix)
    from app.classes.sqlite_store import SqliteClassStore

    return SqliteClassStore(settings.data_dir / "classes.sqlite3")


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> Response:
        headers = getattr(error, "headers", None)
        wants_json = request.url.path.startswith("/api/") or request.url.path == "/healthz"
        if error.status_code == 404 and not wants_json:
            page = await run_in_threadpool(not_found_page, app_state(request.app).site, request.url.path)
            return page.respond(request)
        return JSONResponse({"detail": error.detail}, error.status_code, headers=headers)

    @app.exception_handler(Unavailable)
    async def unavailable(_request: Request, error: Unavailable) -> JSONResponse:
        return JSONResponse({"detail": str(error)}, 503, headers={"Retry-After": "5"})

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, error: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": describe_errors(error.errors())}, 422)
