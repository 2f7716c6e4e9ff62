"""Embedded playgrounds: framed from another origin when the host allows it, refused otherwise."""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.conftest import serving


@pytest.fixture(scope="module")
def host_page(tmp_path_factory) -> Iterator[tuple[str, int]]:
    """A tiny static site on its own port: a course page with an <iframe>. Loaded as
    http://localhost:PORT it is an allowed origin, as http://127.0.0.1:PORT it is not."""
    folder = tmp_path_factory.mktemp("course")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        yield str(folder), server.server_address[1]
        server.shutdown()


@pytest.fixture(scope="module")
def embed_server(tmp_path_factory, host_page) -> Iterator[str]:
    _, port = host_page
    with serving(tmp_path_factory.mktemp("embed-data"), embed_origins=f'["http://localhost:{port}"]') as base:
        yield base


@pytest.fixture
def open_course(browser, host_page):
    """open_course(host, src): the course page framing `src`, loaded from http://<host>:PORT;
    returns (page, console messages about framing)."""
    folder, port = host_page
    context = browser.new_context()

    def open_(host: str, src: str):
        frame = f'<iframe src="{src}" width="900" height="760"></iframe>'
        (Path(folder) / "course.html").write_text(f"<!doctype html><title>Course</title><h1>Week 1</h1>{frame}")
        page = context.new_page()
        refused: list[str] = []
        page.on("console", lambda m: refused.append(m.text) if "frame-ancestors" in m.text else None)
        page.goto(f"http://{host}:{port}/course.html")
        return page, refused

    yield open_
    context.close()


def test_embed_works_inside_an_allowed_origin(open_course, embed_server) -> None:
    options = "hide=seed,x0,y0&controls=lr,steps,optimizer&autoplay=1"
    page, refused = open_course("localhost", f"{embed_server}/embed/gradient-descent?lr=0.05&steps=40&pace=0&{options}")
    frame = page.frame_locator("iframe")
    frame.locator("section.playground").wait_for()
    assert frame.locator(".pg-field[data-name='lr']").is_visible()
    assert frame.locator(".pg-field[data-name='x0']").is_hidden()  # hidden by hide=
    assert frame.locator(".pg-field[data-name='momentum']").is_hidden()  # not in controls=
    # autoplay: the run starts by itself, with the URL's params, and finishes.
    frame.locator(".pg-status").filter(has_text="Done").wait_for(timeout=30_000)
    assert frame.locator(".site-header").count() == 0 and refused == []


def test_embed_is_refused_from_another_origin(open_course, embed_server) -> None:
    page, refused = open_course("127.0.0.1", f"{embed_server}/embed/gradient-descent")  # not an allowed origin
    page.wait_for_timeout(1500)
    frame = page.frames[1]
    assert frame.url.startswith("chrome-error://") or refused, frame.url
    assert frame.locator("section.playground").count() == 0


def test_ordinary_pages_are_never_framed(open_course, embed_server) -> None:
    page, _ = open_course("localhost", f"{embed_server}/terms/gradient-descent")  # allowed for embeds only
    page.wait_for_timeout(1500)
    assert page.frames[1].locator("main").count() == 0


def test_term_page_offers_an_embed_snippet(page) -> None:
    page.goto("/terms/gradient-descent")
    page.locator("[data-action='embed']").click()
    code = page.locator(".pg-embed-code")
    assert code.is_visible()
    snippet = code.input_value()
    assert snippet.startswith('<iframe src="http://127.0.0.1:') and "/embed/gradient-descent?" in snippet
    assert "lr=0.08" in snippet and 'height="' in snippet and "demo=" not in snippet
    page.locator("[data-action='copy-embed']").click()
    assert page.locator("[data-action='embed']").get_attribute("aria-expanded") == "true"
