"""Shared permalinks are ordinary traffic: page latency while clients replay a large stored run.

Run: .venv/bin/python bench/bench_replay.py      (needs wrk: apt-get install -y wrk)

A learning-rate run of 6 series x 3,000 steps is trained, the server restarted (so the run comes
from the store, not memory), and the term page is measured with wrk idle and then while 4 clients
replay that run over and over (its event stream and its status). Target (issue 17): the page's
latency barely moves, because replays are read and decompressed off the event loop and cached.
"""

from __future__ import annotations

import asyncio
import tempfile
import time

import httpx
from _harness import BIN, server, wait_healthy, wrk

SERVE = [str(BIN / "modelterms"), "serve"]
LARGE = {"steps": 3000, "pace": 0, "series": 6, "lr_min": 0.01, "lr_max": 1.0}
REPLAYERS = 4


async def replay_forever(base: str, run_id: str, stop: asyncio.Event, counts: list[int]) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        while not stop.is_set():
            async with client.stream("GET", f"/api/runs/{run_id}/events") as response:
                async for _ in response.aiter_bytes():
                    pass
            await client.get(f"/api/runs/{run_id}")
            counts.append(1)


async def measure_under_replay(base: str, run_id: str) -> tuple[dict, int]:
    stop, counts = asyncio.Event(), []
    tasks = [asyncio.create_task(replay_forever(base, run_id, stop, counts)) for _ in range(REPLAYERS)]
    await asyncio.sleep(1.0)  # replays under way (and the first one has filled the cache)
    loaded = await asyncio.to_thread(wrk, f"{base}/terms/learning-rate", 5, 10)
    stop.set()
    await asyncio.gather(*tasks)
    return loaded, len(counts)


def main() -> None:
    data = tempfile.mkdtemp(prefix="modelterms-bench-replay-")
    env = {"MODELTERMS_DATA_DIR": data}
    with server(SERVE, env) as srv:
        wait_healthy(srv.base, 60, workers=True, process=srv.process)
        run = httpx.post(f"{srv.base}/api/demos/learning-rate/runs", json=LARGE, timeout=10).json()
        with httpx.stream("GET", f"{srv.base}/api/runs/{run['id']}/events", timeout=600) as response:
            size = sum(len(chunk) for chunk in response.iter_bytes())
        time.sleep(1.0)  # stored
    with server(SERVE, env) as srv:
        wait_healthy(srv.base, 60, workers=True, process=srv.process)
        idle = wrk(f"{srv.base}/terms/learning-rate", 5, 10)
        loaded, replays = asyncio.run(measure_under_replay(srv.base, run["id"]))
    print(f"stored run: {LARGE['series']} series x {LARGE['steps']} steps, {size / 1e6:.1f} MB of events")
    print(f"{'term page':<28}{'p50 ms':>9}{'p99 ms':>9}{'req/s':>9}")
    print(f"{'idle':<28}{idle['p50_ms']:>9.2f}{idle['p99_ms']:>9.2f}{idle['rps']:>9.0f}")
    label = f"{REPLAYERS} clients replaying"
    print(f"{label:<28}{loaded['p50_ms']:>9.2f}{loaded['p99_ms']:>9.2f}{loaded['rps']:>9.0f}")
    print(f"replays completed meanwhile: {replays}; p99 ratio {loaded['p99_ms'] / idle['p99_ms']:.2f}")


if __name__ == "__main__":
    main()
