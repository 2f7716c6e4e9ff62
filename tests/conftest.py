"""Shared fixtures: an app with its run engine on a temporary data directory."""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.main import Content, build_content, create_app
from app.settings import ROOT, Settings
from tests.support import cluster

TEST_DEMOS = ["tests.support.demos", "tests.support.prepared"]
BACKENDS = ("embedded", "redis")
CONTENT_TESTS = {"test_content.py", "test_exercises.py", "test_search.py", "test_worked_examples.py"}
"""Unit tests that read the real Markdown terms: they fail on a content change, not a code change."""


def lane(item: pytest.Item) -> str:
    """Which lane of the suite a test runs in, by what it costs and what it needs (see the markers
    in pyproject.toml): `pytest -m unit` runs the cheap ones, `-m contract` the API on both backends."""
    path = item.path.relative_to(ROOT / "tests")
    if path.parts[0] == "browser":
        return "browser"
    if path.parts[0] == "unit":
        return "content" if path.name in CONTENT_TESTS else "unit"
    if {"engine_client", "backend", "redis_client"} & set(getattr(item, "fixturenames", ())):
        return "contract"
    return "system"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        item.add_marker(lane(item))


def make_settings(data_dir: Path, **overrides) -> Settings:
    # One test client starts many runs: the per-client limit is tested on its own. A step may take
    # long on a loaded test machine: the hung-step limit is tested on its own too.
    values = {"data_dir": data_dir, "workers": 1, "runs_per_client": 1000, "max_step_seconds": 60}
    values |= {"extra_demo_modules": TEST_DEMOS}
    # On Redis, each data dir is a site of its own: apps on the same dir (a restart) share it.
    values |= {"redis_prefix": "test-" + hashlib.sha1(str(data_dir).encode()).hexdigest()[:12]}
    values |= overrides
    return Settings(**values)


@functools.cache
def shared_content(content_dirs: tuple[Path, ...], extra_demo_modules: tuple[str, ...]) -> Content:
    return build_content(content_dirs, extra_demo_modules)


def make_app(settings: Settings) -> FastAPI:
    """`create_app(settings)` on content built once per session: rendering the terms takes seconds,
    and a test that needs a fresh engine does not need fresh pages."""
    return create_app(settings, shared_content(tuple(settings.content_dirs), tuple(settings.extra_demo_modules)))


@contextmanager
def running_app(data_dir: Path, **overrides) -> Iterator[TestClient]:
    """The app on its engine; with `redis_url`, also `workers` worker processes on that Redis."""
    settings = make_settings(data_dir, **overrides)
    training = cluster.forked_workers(settings, settings.workers) if settings.redis_url else nullcontext()
    with training, TestClient(make_app(settings)) as client:
        yield client


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory) -> Iterator[str]:
    """A real redis-server for the session; skipped where none is installed, unless
    MODELTERMS_REQUIRE_REDIS=1 (CI) makes that a failure."""
    if not shutil.which("redis-server") and not Path(cluster.REDIS_SERVER).exists():
        if os.environ.get("MODELTERMS_REQUIRE_REDIS") == "1":
            pytest.fail(cluster.MISSING_REDIS)
        pytest.skip(cluster.MISSING_REDIS)
    with cluster.redis_server(tmp_path_factory.mktemp("redis")) as url:
        yield url


@pytest.fixture(params=BACKENDS)
def backend(request) -> dict:
    """Settings overrides that pick a backend: run an engine test once on each."""
    return {} if request.param == "embedded" else {"redis_url": request.getfixturevalue("redis_url")}


@pytest.fixture(scope="session", params=BACKENDS)
def engine_client(request) -> TestClient:
    """Like `client`, once per backend: for the engine's behavioural tests."""
    return request.getfixturevalue("client" if request.param == "embedded" else "redis_client")


@pytest.fixture(scope="session")
def redis_client(redis_url, tmp_path_factory) -> Iterator[TestClient]:
    """Like `client`, on the Redis backend with two workers."""
    with running_app(tmp_path_factory.mktemp("data-redis"), workers=2, redis_url=redis_url) as client:
        yield client


@pytest.fixture(scope="session")
def client(tmp_path_factory) -> Iterator[TestClient]:
    """One app for the whole session: most tests only read pages or run short demos."""
    with running_app(tmp_path_factory.mktemp("data"), workers=2) as client:
        yield client


def read_events(
    client: TestClient, run_id: str, after: int = 0, limit: int | None = None, until: str = "end"
) -> list[dict]:
    """Reads the SSE stream until the `end` event (or the first `until` event, or `limit` events)
    and returns the events."""
    events: list[dict] = []
    with client.stream("GET", f"/api/runs/{run_id}/events", params={"after": after}) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        for event in parse_sse(response.iter_lines()):
            events.append(event)
            if event["event"] in ("end", until) or (limit and len(events) >= limit):
                break
    return events


def parse_sse(lines: Iterator[str]) -> Iterator[dict]:
    """The events of an SSE stream's lines, as {id, event, data}."""
    event: dict = {}
    for line in lines:
        if line.startswith("id: "):
            event["id"] = int(line[4:])
        elif line.startswith("event: "):
            event["event"] = line[7:]
        elif line.startswith("data: "):
            event["data"] = json.loads(line[6:])
        elif line == "" and "id" in event:
            yield event
            event = {}


def auth(run: dict) -> dict[str, str]:
    """The header that PATCH and DELETE need: the control token from the run's POST answer."""
    return {"Authorization": f"Bearer {run['control_token']}"}


def points_of(events: list[dict]) -> list[dict]:
    return [p for e in events if e["event"] == "metrics" for p in e["data"]["points"]]


@pytest.fixture
def content_root() -> Path:
    return ROOT / "content"
