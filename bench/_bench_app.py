"""The real app plus one route that returns a term page's prebuilt bytes: the baseline."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import Response

from app.main import create_app


def create_bench_app() -> FastAPI:
    app = create_app()
    body = app.state.site.pages["/terms/gradient-descent"].body

    @app.get("/bench/prebuilt")
    def prebuilt() -> Response:
        return Response(body, media_type="text/html; charset=utf-8")

    return app
