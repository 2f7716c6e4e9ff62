"""Browser tests: a real server in a subprocess, driven through the system Chromium.

Skipped (with the reason printed) when Chromium or Playwright is missing, unless
MODELTERMS_REQUIRE_BROWSER=1, as in CI, where a missing browser is a failure.
"""

from __future__ import annotations

import functools
import http.server
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.browser.chromium import Chromium

CHROMIUM = os.environ.get("MODELTERMS_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ROOT = Path(__file__).resolve().parents[2]


def _missing() -> str | None:
    if not Path(CHROMIUM).exists():
        return f"Chromium not found at {CHROMIUM} (apt-get install -y chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed"
    return None


def pytest_collection_modifyitems(config, items) -> None:
    reason = _missing()
    if reason is None:
        return
    if os.environ.get("MODELTERMS_REQUIRE_BROWSER") == "1":
        raise pytest.UsageError(f"browser tests are required here but cannot run: {reason}")
    print(f"\nskipping browser tests: {reason}")
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(pytest.mark.skip(reason=reason))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def serving(data_dir: Path, **settings: str) -> Iterator[str]:
    """A real server in a subprocess with MODELTERMS_<NAME> settings; yields its base URL."""
    port = _free_port()
    env = os.environ | {"MODELTERMS_DATA_DIR": str(data_dir), "MODELTERMS_WORKERS": "2"}
    env |= {f"MODELTERMS_{name.upper()}": value for name, value in settings.items()}
    command = [sys.executable, "-m", "app.cli", "serve", "--port", str(port)]
    # The server's log goes to a file, never to a pipe: nobody reads a pipe while the tests run, and
    # once its 64 KiB buffer filled the server blocked in a log write and every later test hung.
    log = data_dir / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            health = httpx.get(f"{base}/healthz", timeout=1).json()
            if health["workers_ready"] == health["workers"]:
                break
        except (httpx.HTTPError, ValueError):
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"server did not start: {log.read_text(errors='replace')[-2000:]}")
        time.sleep(0.1)
    try:
        yield base
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture(scope="session")
def host_page(tmp_path_factory) -> Iterator[tuple[str, int]]:
    """A tiny static site on its own port, for a course page that frames embeds (test_embed.py):
    loaded as http://localhost:PORT it is an origin the server allows, as http://127.0.0.1:PORT not."""
    folder = tmp_path_factory.mktemp("course")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        yield str(folder), server.server_address[1]
        server.shutdown()


@pytest.fixture(scope="session")
def base_url(tmp_path_factory, host_page) -> Iterator[str]:
    # Test-only demos for views no built-in demo uses yet (the feed, the x-axis switch); embeds may
    # be framed by the course page (one server for all: each start costs seconds).
    settings = {
        "extra_demo_modules": '["tests.support.feed_demo"]',
        "embed_origins": f'["http://localhost:{host_page[1]}"]',
    }
    with serving(tmp_path_factory.mktemp("browser-data"), **settings) as base:
        yield base


# Package scope: Playwright's sync API keeps an event loop running in this thread while it is
# open, and a later test that calls asyncio.run() would fail if it outlived the browser tests.
@pytest.fixture(scope="package")
def chromium() -> Iterator[Chromium]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = Chromium(playwright.chromium, CHROMIUM, CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def browser(chromium):
    return chromium.current()


@pytest.fixture
def new_context(chromium, base_url):
    """new_context(on=None, **options): a browser context (on the test Chromium, or `on`, another
    Chromium), closed safely after the test."""
    opened = []

    def open_(on: Chromium | None = None, **options):
        owner = on or chromium
        context = owner.current().new_context(**({"base_url": base_url} | options))
        opened.append((owner, context))
        return context

    yield open_
    for owner, context in opened:
        owner.close_context(context)


@pytest.fixture
def page(new_context):
    """A page that records console errors and CSP violations; the test fails if any occur."""
    context = new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.problems = problems
    yield page
    assert problems == [], f"console errors: {problems}"


THEMES = ("light", "dark")


@pytest.fixture
def axe(new_context):
    """Runs axe-core on a path in each theme: {theme: its serious and critical violations, each as
    (rule, the first three elements)}. The page is loaded once and the theme switched in place,
    as the toggle does (a load and the script's injection cost more than a run). CSP is bypassed
    only here, to inject the axe script."""
    source = (ROOT / "node_modules" / "axe-core" / "axe.min.js").read_text()
    context = new_context(bypass_csp=True)

    def check(path: str) -> dict[str, list]:
        page = context.new_page()
        page.goto(path)
        page.add_script_tag(content=source)
        found = {}
        for theme in THEMES:
            page.evaluate(f"document.documentElement.dataset.theme = '{theme}'")
            result = page.evaluate("async () => (await axe.run(document)).violations")
            serious = [v for v in result if v["impact"] in ("serious", "critical")]
            found[theme] = [(v["id"], [n["target"] for n in v["nodes"]][:3]) for v in serious]
        page.close()
        return found

    return check
