"""Shared fixtures: an app with its run engine on a temporary data directory."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import ROOT, Settings

TEST_DEMOS = ["tests.support.demos", "tests.support.prepared"]


def make_settings(data_dir: Path, **overrides) -> Settings:
    # One test client starts many runs: the per-client limit is tested on its own. A step may take
    # long on a loaded test machine: the hung-step limit is tested on its own too.
    values = {"data_dir": data_dir, "workers": 1, "runs_per_client": 1000, "max_step_seconds": 60}
    values |= {"extra_demo_modules": TEST_DEMOS}
    values |= overrides
    return Settings(**values)


@contextmanager
def running_app(data_dir: Path, **overrides) -> Iterator[TestClient]:
    with TestClient(create_app(make_settings(data_dir, **overrides))) as client:
        yield client


@pytest.fixture(scope="session")
def client(tmp_path_factory) -> Iterator[TestClient]:
    """One app for the whole session: most tests only read pages or run short demos."""
    with running_app(tmp_path_factory.mktemp("data"), workers=2) as client:
        yield client


def read_events(client: TestClient, run_id: str, after: int = 0, limit: int | None = None) -> list[dict]:
    """Reads the SSE stream until the `end` event (or `limit` events) and returns the events."""
    events: list[dict] = []
    with client.stream("GET", f"/api/runs/{run_id}/events", params={"after": after}) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        event: dict = {}
        for line in response.iter_lines():
            if line.startswith("id: "):
                event["id"] = int(line[4:])
            elif line.startswith("event: "):
                event["event"] = line[7:]
            elif line.startswith("data: "):
                event["data"] = json.loads(line[6:])
            elif line == "" and "id" in event:
                events.append(event)
                if event["event"] == "end" or (limit and len(events) >= limit):
                    break
                event = {}
    return events


def auth(run: dict) -> dict[str, str]:
    """The header that PATCH and DELETE need: the control token from the run's POST answer."""
    return {"Authorization": f"Bearer {run['control_token']}"}


def points_of(events: list[dict]) -> list[dict]:
    return [p for e in events if e["event"] == "metrics" for p in e["data"]["points"]]


@pytest.fixture
def content_root() -> Path:
    return ROOT / "content"
