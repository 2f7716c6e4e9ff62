"""The Redis backend on its own: choosing it, and a Redis that is down and then comes back."""

from __future__ import annotations

from fastapi.testclient import TestClient

from app.main import create_app
from app.playground.engine import Engine
from app.playground.redis_engine import RedisEngine
from tests.conftest import make_settings
from tests.support import cluster


def test_the_redis_url_setting_chooses_the_backend(tmp_path) -> None:
    assert isinstance(create_app(make_settings(tmp_path)).state.engine, Engine)
    redis_app = create_app(make_settings(tmp_path, redis_url="redis://127.0.0.1:1/0"))
    assert isinstance(redis_app.state.engine, RedisEngine)


def test_while_redis_is_down_requests_get_a_clear_503_and_it_recovers_when_back(tmp_path, redis_url) -> None:
    port = cluster.free_port()
    settings = make_settings(tmp_path, redis_url=f"redis://127.0.0.1:{port}/0", heartbeat_seconds=0.2)
    with TestClient(create_app(settings)) as client:
        health = client.get("/healthz").json()
        assert health["status"] == "degraded" and health["redis"].startswith("unreachable")
        down = client.post("/api/demos/counter/runs", json={"steps": 5})
        assert down.status_code == 503 and "cannot reach its Redis server" in down.json()["detail"]
        assert down.headers["retry-after"] == "5"
        assert client.get("/api/runs/abcdef123456").status_code == 503
        with cluster.redis_server(tmp_path / "redis", port):
            cluster.wait_until(lambda: client.get("/healthz").json()["redis"] == "ok", 10, "the replica to see Redis")
            queued = client.post("/api/demos/counter/runs", json={"steps": 5})
            assert queued.status_code == 201 and queued.json()["queue_position"] == 1  # no worker yet: it waits
            assert client.get(f"/api/runs/{queued.json()['id']}").json()["status"] == "queued"
