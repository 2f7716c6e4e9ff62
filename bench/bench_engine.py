"""The run engine under load, each number measured in one run against its own baseline.

Run: .venv/bin/python bench/bench_engine.py      (needs wrk: apt-get install -y wrk)
     .venv/bin/python bench/bench_engine.py pretraining sft    (only those demos' overhead ratios)
Targets (issue 3): overhead ratio >= 0.9 (printed per wall second and per CPU second: on a shared
machine the CPU ratio is the one to trust); POST -> first point p50 <= 20 ms; an LR change at
pace 60 applies at the step right after the PATCH returns; term-page p99 while 2 runs train at
pace 0 <= 2 x idle; 200 concurrent stream clients each receive every event.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import time

import httpx
import torch
from _harness import BIN, ROOT, auth, server, tree_cpu_seconds, wait_healthy, wrk

sys.path.insert(0, str(ROOT))
from app.demos import load_demos
from app.demos.base import InlineControl

SERVE = [str(BIN / "modelterms"), "serve"]
OVERHEAD_CASES = {
    "gradient-descent": {"steps": 5000, "pace": 0, "function": "rosenbrock", "lr": 0.0005, "x0": -1.5, "y0": 2.0},
    "learning-rate": {"steps": 3000, "pace": 0, "series": 1, "lr_min": 0.3, "lr_max": 0.3},
    "lora": {"steps": 150, "pace": 0},
    "qlora": {"steps": 80, "pace": 0},
    "preference-data": {"steps": 500, "pace": 0},
    "reward-model": {"steps": 2000, "pace": 0},
    "rlhf": {"steps": 600, "pace": 0},
    "training-compute": {"steps": 150, "pace": 0},
    "dpo": {"steps": 600, "pace": 0},
    "loss-function": {"steps": 3000, "pace": 0},
    "backpropagation": {"steps": 3000, "pace": 0},
    "distillation": {"steps": 1500, "pace": 0},
    "synthetic-data": {"generations": 3000, "pace": 0},
    "pretraining": {"steps": 150, "pace": 0},
    "fine-tuning": {"steps": 60, "pace": 0},
    "sft": {"steps": 60, "pace": 0},
    "instruction-tuning": {"steps": 150, "pace": 0},
    "scaling-laws": {"tokens": 20480, "pace": 0},
}


async def stream(client: httpx.AsyncClient, run_id: str, after: int = 0):
    """Yields (receive time, event) for each SSE event until `end`."""
    async with client.stream("GET", f"/api/runs/{run_id}/events", params={"after": after}) as response:
        event: dict = {}
        async for line in response.aiter_lines():
            if line.startswith("id: "):
                event["id"] = int(line[4:])
            elif line.startswith("event: "):
                event["event"] = line[7:]
            elif line.startswith("data: "):
                event["data"] = json.loads(line[6:])
            elif line == "" and "id" in event:
                yield time.perf_counter(), event
                if event["event"] == "end":
                    return
                event = {}


def bare_rate(name: str, params: dict) -> tuple[float, float]:
    """Steps per second of the same loop in this process, from the first point to the end: per
    wall second, and per CPU second of this thread."""
    torch.set_num_threads(1)
    demo = load_demos()[name]
    parsed = demo.parse(params)
    steps = demo.steps(parsed, InlineControl(parsed))
    next(steps)
    start, cpu, count = time.perf_counter(), time.thread_time(), 1
    for _ in steps:
        count += 1
    return (count - 1) / (time.perf_counter() - start), (count - 1) / (time.thread_time() - cpu)


async def served_rate(client: httpx.AsyncClient, name: str, params: dict, server_pid: int) -> tuple[float, float]:
    """Steps per second of a served run, from its first metrics event to its last: per wall second,
    and per CPU second of the whole server (web process and workers) meanwhile."""
    run = (await client.post(f"/api/demos/{name}/runs", json=params)).json()
    first_at, first_step, last_at, last_step = None, 0, 0.0, 0
    first_cpu = last_cpu = 0.0
    async for at, event in stream(client, run["id"]):
        if event["event"] == "metrics":
            step = event["data"]["points"][-1]["step"]
            cpu = tree_cpu_seconds(server_pid)
            if first_at is None:
                first_at, first_step, first_cpu = at, step, cpu
            last_at, last_step, last_cpu = at, step, cpu
    return (last_step - first_step) / (last_at - first_at), (last_step - first_step) / (last_cpu - first_cpu)


def medians(rates: list[tuple[float, float]]) -> tuple[float, float]:
    """(median rate per wall second, median rate per CPU second)."""
    return statistics.median(wall for wall, _ in rates), statistics.median(cpu for _, cpu in rates)


async def overhead(client: httpx.AsyncClient, names: list[str], server_pid: int) -> None:
    for name in names:
        params = OVERHEAD_CASES[name]
        # Interleaved, five of each: short runs on a shared 2-core machine are noisy.
        bare, served = [], []
        for _ in range(5):
            bare.append(bare_rate(name, params))
            served.append(await served_rate(client, name, params, server_pid))
        (bare_wall, bare_cpu), (served_wall, served_cpu) = medians(bare), medians(served)
        print(
            f"overhead {name:18}: served {served_wall:6.0f} steps/s, bare {bare_wall:6.0f} steps/s, "
            f"ratio {served_wall / bare_wall:.3f}; per CPU second {served_cpu:6.0f} against {bare_cpu:6.0f}, "
            f"ratio {served_cpu / bare_cpu:.3f} (target >= 0.9)"
        )


async def first_point_latency(client: httpx.AsyncClient, runs: int = 60) -> None:
    latencies = []
    for _ in range(runs):
        started = time.perf_counter()
        run = (await client.post("/api/demos/gradient-descent/runs", json={"steps": 3, "pace": 0})).json()
        async for at, event in stream(client, run["id"]):
            if event["event"] == "metrics" and len(latencies) < runs:
                latencies.append((at - started) * 1000)
                break
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))]
    print(
        f"POST -> first point: p50 {statistics.median(latencies):.1f} ms, p99 {p99:.1f} ms over {runs} runs "
        f"(target p50 <= 20 ms)"
    )


async def live_change(client: httpx.AsyncClient, changes: int = 20) -> None:
    run = (await client.post("/api/demos/gradient-descent/runs", json={"steps": 5000, "pace": 60, "lr": 0.001})).json()
    events: list[dict] = []

    async def collect():
        async for _, event in stream(client, run["id"]):
            events.append(event)

    reader = asyncio.create_task(collect())
    await asyncio.sleep(0.5)
    round_trips, applied = [], []
    for i in range(changes):
        sent = time.perf_counter()
        reply = (
            await client.patch(f"/api/runs/{run['id']}", headers=auth(run), json={"lr": 0.001 * (1 + (i % 2))})
        ).json()
        round_trips.append((time.perf_counter() - sent) * 1000)
        applied.append(reply["applies_from_step"])
        await asyncio.sleep(0.1)
    await client.delete(f"/api/runs/{run['id']}", headers=auth(run))
    await reader
    # Every change must apply at the step right after the last step logged before it.
    exact = 0
    last_step = -1
    for event in events:
        if event["event"] == "metrics":
            last_step = event["data"]["points"][-1]["step"]
        elif event["event"] == "control" and event["data"]["step"] == last_step + 1:
            exact += 1
    print(
        f"LR change at pace 60: {exact}/{changes} applied at the step right after the PATCH; "
        f"PATCH round trip p50 {statistics.median(round_trips):.1f} ms, max {max(round_trips):.1f} ms "
        f"(one step is {1000 / 60:.1f} ms)"
    )


async def page_latency_under_training(client: httpx.AsyncClient, base: str) -> None:
    idle = wrk(f"{base}/terms/gradient-descent", seconds=5)
    params = {"steps": 3000, "pace": 0, "series": 6}
    runs = [(await client.post("/api/demos/learning-rate/runs", json=params)).json() for _ in range(2)]
    readers = [asyncio.create_task(_drain(client, r["id"])) for r in runs]
    await asyncio.sleep(0.3)
    busy = await asyncio.to_thread(wrk, f"{base}/terms/gradient-descent", 5)
    for run in runs:
        await client.delete(f"/api/runs/{run['id']}", headers=auth(run))
    await asyncio.gather(*readers)
    print(
        f"term page p99: idle {idle['p99_ms']:.2f} ms, while 2 runs train at pace 0 {busy['p99_ms']:.2f} ms, "
        f"ratio {busy['p99_ms'] / idle['p99_ms']:.2f} (target <= 2); req/s {idle['rps']:.0f} -> {busy['rps']:.0f}"
    )


async def _drain(client: httpx.AsyncClient, run_id: str) -> None:
    async for _ in stream(client, run_id):
        pass


async def many_clients(base: str, clients: int = 200) -> None:
    limits = httpx.Limits(max_connections=clients + 10)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as client:
        run = (await client.post("/api/demos/gradient-descent/runs", json={"steps": 300, "pace": 100})).json()

        async def ids() -> list[int]:
            return [event["id"] async for _, event in stream(client, run["id"])]

        received = await asyncio.gather(*(ids() for _ in range(clients)))
    total = len(received[0])
    complete = sum(r == list(range(1, total + 1)) for r in received)
    print(f"{clients} concurrent stream clients: {complete}/{clients} received all {total} events, in order")


async def main(only_overhead_of: list[str]) -> None:
    """Every measurement; or, given demo names, only the overhead ratios of those demos."""
    with server(SERVE, {"MODELTERMS_WORKERS": "2", "MODELTERMS_IDLE_CANCEL_SECONDS": "60"}) as running:
        base = running.base
        os.environ["MODELTERMS_DATA_DIR"] = str(running.data_dir)  # bare runs share the cached base model
        wait_healthy(base, workers=True, process=running.process)
        async with httpx.AsyncClient(base_url=base, timeout=120) as client:
            await overhead(client, only_overhead_of or list(OVERHEAD_CASES), running.process.pid)
            if only_overhead_of:
                return
            await first_point_latency(client)
            await live_change(client)
            await page_latency_under_training(client, base)
        await many_clients(base)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
