"""Pieces shared by every router: templates, prebuilt pages (ETag + gzip), security headers."""

from __future__ import annotations

import gzip
import hashlib
import math
from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.settings import ROOT

TEMPLATES = ROOT / "templates"
STATIC = ROOT / "static"


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
    """Pure ASGI middleware (no per-request task overhead, unlike BaseHTTPMiddleware)."""

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
            await send(message)

        await self.app(scope, receive, send_with_headers)


def describe_errors(errors) -> list[dict]:
    """Pydantic errors as JSON, each with a sentence naming the field and the bound."""
    described = []
    for issue in errors:
        loc = [str(p) for p in issue.get("loc", ()) if p not in ("body", "query", "path")]
        field = ".".join(loc) or "body"
        described.append({"field": field, "message": f"{field}: {issue.get('msg')}", "type": issue.get("type")})
    return described
