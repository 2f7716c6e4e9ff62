"""Embed pages: the panel alone, frameable only from the origins the host lists."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from app.settings import Settings
from tests.conftest import read_events, running_app


def frame_ancestors(response) -> str:
    return next(p for p in response.headers["content-security-policy"].split("; ") if p.startswith("frame-ancestors"))


def test_embed_page_is_the_panel_alone_and_unframeable_by_default(client) -> None:
    response = client.get("/embed/gradient-descent?lr=0.15&hide=steps")
    assert response.status_code == 200
    assert 'id="playground-gradient-descent"' in response.text and "site-header" not in response.text
    assert "/static/js/embed.js" in response.text and "<script>" not in response.text  # no inline script
    assert frame_ancestors(response) == "frame-ancestors 'none'"
    assert "script-src 'self'" in response.headers["content-security-policy"]


def test_embed_origins_reach_only_embed_pages(tmp_path) -> None:
    with running_app(tmp_path, embed_origins=["https://course.example.org", "http://localhost:8080"]) as c:
        run = c.post("/api/demos/gradient-descent/runs", json={"steps": 5, "pace": 0}).json()
        read_events(c, run["id"])
        for path in ("/embed/gradient-descent", f"/embed/runs/{run['id']}"):
            assert frame_ancestors(c.get(path)) == "frame-ancestors https://course.example.org http://localhost:8080"
        for path in ("/", "/terms/gradient-descent", f"/runs/{run['id']}", "/api/demos"):
            assert frame_ancestors(c.get(path)) == "frame-ancestors 'none'"


def test_unknown_demo_or_run_is_404(client) -> None:
    assert client.get("/embed/nope").status_code == 404
    assert client.get("/embed/runs/nope").status_code == 404


@pytest.mark.parametrize("origin", ["https://a.org; script-src *", "'self'", "javascript:x", "https://a.org/path"])
def test_embed_origins_refuse_anything_but_an_origin(origin) -> None:
    with pytest.raises(ValidationError):
        Settings(embed_origins=[origin])


def test_star_and_wildcard_subdomains_are_origins() -> None:
    assert Settings(embed_origins=["*", "https://*.example.org"]).embed_origins == ["*", "https://*.example.org"]
