"""The Redis backend: a real redis-server, one `modelterms serve`, and 1 or 2 `modelterms worker`s.

Run: .venv/bin/python bench/bench_scale.py      (needs redis-server: apt-get install -y redis-server)
Measures (issue 13): engine overhead over a bare loop (target >= 0.9, as for the embedded engine),
POST -> first point p50/p99 through Redis, and throughput of default gradient-descent runs (150
steps) at pace 0, in runs per minute, with 1 and 2 worker processes.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path

import httpx
from _harness import BIN, ROOT, server, wait_healthy
from bench_engine import OVERHEAD_CASES, bare_rate, first_point_latency, medians, served_rate, stream

sys.path.insert(0, str(ROOT))
from app.settings import Settings
from tests.support import cluster

SERVE = [str(BIN / "modelterms"), "serve"]
THROUGHPUT_RUNS = 40


async def overhead(
    client: httpx.AsyncClient, worker_pid: int, name: str = "gradient-descent", repeats: int = 5
) -> None:
    """Per wall second, and per CPU second of the worker that trains (its Redis round trips
    included; the web process's and redis-server's work, on the other core, is not)."""
    params = OVERHEAD_CASES[name]
    bare, served = [], []
    for _ in range(repeats):  # interleaved: a shared 2-core machine is noisy
        bare.append(bare_rate(name, params))
        served.append(await served_rate(client, name, params, worker_pid))
    (bare_wall, bare_cpu), (served_wall, served_cpu) = medians(bare), medians(served)
    print(
        f"overhead {name}: through Redis {served_wall:.0f} steps/s, bare {bare_wall:.0f} steps/s, "
        f"ratio {served_wall / bare_wall:.3f} per wall second, {served_cpu / bare_cpu:.3f} per CPU second "
        "of the worker (target >= 0.9)"
    )


async def throughput(client: httpx.AsyncClient, workers: int, runs: int = THROUGHPUT_RUNS) -> float:
    """Default gradient-descent runs at pace 0, all submitted at once, until the last one ends."""
    started = time.perf_counter()
    ids = [(await client.post("/api/demos/gradient-descent/runs", json={"pace": 0})).json()["id"] for _ in range(runs)]

    async def until_end(run_id: str) -> str:
        async for _, event in stream(client, run_id):
            if event["event"] == "end":
                return event["data"]["status"]
        return "?"

    statuses = await asyncio.gather(*(until_end(i) for i in ids))
    per_minute = runs / (time.perf_counter() - started) * 60
    print(f"throughput, {workers} worker(s): {per_minute:.0f} runs/min ({statuses.count('done')}/{runs} done)")
    return per_minute


async def main() -> None:
    if not Path(cluster.REDIS_SERVER).exists():
        print(f"bench_scale skipped: {cluster.MISSING_REDIS}")
        return
    folder = Path(tempfile.mkdtemp(prefix="modelterms-bench-scale-"))
    with cluster.redis_server(folder / "redis") as url:
        settings = Settings(data_dir=folder, redis_url=url, idle_cancel_seconds=60, runs_per_client=1000)
        env = cluster.settings_env(settings)
        with server(SERVE, env) as web:
            wait_healthy(web.base, process=web.process)
            async with httpx.AsyncClient(base_url=web.base, timeout=300) as client:
                with cluster.workers(settings, 1, "bench-a") as (worker,):
                    await overhead(client, worker.pid)
                    await first_point_latency(client)
                    one = await throughput(client, 1)
                    with cluster.workers(settings, 1, "bench-b"):
                        two = await throughput(client, 2)
        print(f"two workers / one: {two / one:.2f}x")


if __name__ == "__main__":
    asyncio.run(main())
