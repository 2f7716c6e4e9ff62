"""Pieces shared by every router: templates, prebuilt pages (ETag + gzip), security headers."""

from __future__ import annotations

import gzip
import hashlib
import logging
import math
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.settings import ROOT

TEMPLATES = ROOT / "templates"
STATIC = ROOT / "static"

log = logging.getLogger("modelterms")


def content_security_policy(frame_ancestors: str = "'none'") -> str:
    """The policy of every response; only embed pages name who may frame them."""
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "font-src 'self'",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            f"frame-ancestors {frame_ancestors}",
        ]
    )


CONTENT_SECURITY_POLICY = content_security_policy()


def make_templates(asset_version: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["asset_version"] = asset_version
    env.filters["log10"] = lambda value: round(math.log10(value), 4)
    return env


def asset_version(folder: Path = STATIC) -> str:
    """A short hash of our own static files, appended to their URLs to bust caches."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and "vendor" not in p.parts):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:10]


@dataclass(frozen=True)
class Page:
    """An HTML page rendered once, kept as bytes, gzip bytes and an ETag."""

    body: bytes
    gzipped: bytes
    etag: str
    status_code: int = 200

    @classmethod
    def build(cls, html: str, status_code: int = 200) -> Page:
        body = html.encode()
        return cls(body, gzip.compress(body, 6, mtime=0), f'"{hashlib.sha1(body).hexdigest()[:16]}"', status_code)

    def respond(self, request: Request) -> Response:
        headers = {"ETag": self.etag, "Vary": "Accept-Encoding", "Cache-Control": "no-cache"}
        if self.status_code == 200 and request.headers.get("if-none-match") == self.etag:
            return Response(status_code=304, headers=headers)
        body = self.body
        if "gzip" in request.headers.get("accept-encoding", ""):
            body = self.gzipped
            headers["Content-Encoding"] = "gzip"
        return Response(body, self.status_code, headers, media_type="text/html; charset=utf-8")


class SecurityHeaders:
    """Pure ASGI middleware (no per-request task overhead, unlike BaseHTTPMiddleware). It also
    makes a redirect name only its path: Starlette's (to a path without its trailing slash) built
    an absolute URL from the Host header, which any client sets, so `Host: evil.example` made this
    site send readers to another one. The app links nowhere else: an absolute Location is its own."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Referrer-Policy", "same-origin")
                if scope["path"].startswith("/static/"):
                    # ES modules are imported without a version in their URL: revalidate (a cheap
                    # 304 by ETag) so an upgrade never mixes old and new modules.
                    headers.setdefault("Cache-Control", "no-cache")
                if 300 <= message["status"] < 400 and (location := urlsplit(headers.get("location", ""))).netloc:
                    headers["location"] = urlunsplit(("", "", location.path or "/", location.query, ""))
            await send(message)

        await self.app(scope, receive, send_with_headers)


class HeadAndOptions:
    """HEAD is answered as GET without the body, and OPTIONS with the path's methods in `Allow`
    (FastAPI's routes take neither). No CORS headers: a cross-site preflight learns nothing."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.routes: list | None = None  # read once, at the first request: by then all are added

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        if self.routes is None:
            self.routes = flat_routes(scope["app"].routes)
        allowed = allowed_methods(self.routes, scope)
        if not allowed:
            await self.app(scope, receive, send)  # no such path: the usual 404
        elif scope["method"] == "OPTIONS":
            allow = ", ".join(sorted(allowed))
            await Response(status_code=204, headers={"Allow": allow})(scope, receive, send)
        elif "GET" not in allowed:
            await self.app(scope, receive, send)  # the usual 405
        else:
            await self.app(dict(scope, method="GET"), receive, _without_body(send))


def flat_routes(routes: list) -> list:
    """Every route with its full path: FastAPI keeps an included router as one entry."""
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # a FastAPI that copies included routes into the app's list
        return list(routes)
    return [context.route for context in iter_route_contexts(routes)]


def allowed_methods(routes: list, scope: Scope) -> set[str]:
    allowed: set[str] = set()
    for route in routes:
        match, _ = route.matches(dict(scope, method="GET"))
        if match is not Match.NONE:
            allowed |= set(getattr(route, "methods", None) or {"GET"})  # a mount (static files) serves GET
    if "GET" in allowed:
        allowed.add("HEAD")
    return allowed | {"OPTIONS"} if allowed else allowed


def _without_body(send: Send) -> Send:
    """Passes the status and headers on, then ends the response: a stream would never end."""
    done = False

    async def send_head(message: Message) -> None:
        nonlocal done
        if done:
            return
        if message["type"] == "http.response.start":
            await send(message)
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            done = True

    return send_head


class PlainServerErrors:
    """An unexpected error answers a plain 500 with an error id; the log has the id beside the
    full traceback. The client never sees the exception's text: it may hold a path or a
    library's internals."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watch_start(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watch_start)
        except Exception:
            error_id = secrets.token_hex(6)
            log.exception("error %s in %s %s", error_id, scope["method"], scope["path"])
            if started:
                return  # too late for a status: the server ends the cut-short response
            detail = f"Something went wrong on the server. If it keeps happening, report error id {error_id}."
            await JSONResponse({"detail": detail, "error_id": error_id}, 500)(scope, receive, send)


def describe_errors(errors: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Pydantic errors as JSON, each with a sentence naming the field and the bound."""
    described = []
    for issue in errors:
        loc = [str(p) for p in issue.get("loc", ()) if p not in ("body", "query", "path")]
        field = ".".join(loc) or "body"
        described.append({"field": field, "message": f"{field}: {issue.get('msg')}", "type": issue.get("type")})
    return described
