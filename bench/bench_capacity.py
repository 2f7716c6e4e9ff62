"""A classroom at once: N students press Run on the gradient-descent page in the same moment.

Run: .venv/bin/python bench/bench_capacity.py [N ...]      (default N = 25 50 100 200)

The server runs with its default settings, behind a "proxy" it trusts (127.0.0.1), so each
simulated student has an address of their own (X-Forwarded-For) and the per-client limit applies
to each as it would in a class. Each student starts a default run (150 steps at 30 steps/s) and
follows its stream to the end. Reported per N: runs done, the share that kept at least 0.95 of
their pace (steps per second from their first point to their last, as received), and POST ->
first point p50/p99. Then 2 LoRA runs at full speed beside 50 paced runs, and the first LoRA run
on a fresh data dir (artifacts prepared by the README's set-up).
Targets (issue 9): at N = 200 every run done, 95 % keep pace, p99 <= 100 ms; paced runs keep
their pace beside the LoRA runs; the first LoRA point within 2 s.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

import httpx
from _harness import BIN, server, wait_healthy

SERVE = [str(BIN / "modelterms"), "serve"]
ENV = {"MODELTERMS_TRUSTED_PROXIES": '["127.0.0.1"]'}
PACE = 30.0
KEPT = 0.95


async def student(client: httpx.AsyncClient, who: int, demo: str, params: dict) -> dict:
    """POST a run as student `who` and follow it to `end`: first-point latency, pace, status."""
    posted = time.perf_counter()
    reply = await client.post(
        f"/api/demos/{demo}/runs", json=params, headers={"X-Forwarded-For": f"10.1.{who // 250}.{who % 250 + 1}"}
    )
    if reply.status_code != 201:
        return {"status": f"HTTP {reply.status_code}", "first_ms": None, "rate": None}
    first = last = None
    status = None
    async with client.stream("GET", f"/api/runs/{reply.json()['id']}/events") as stream:
        kind = None
        async for line in stream.aiter_lines():
            if line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("data: ") and kind == "metrics":
                step = json.loads(line[6:])["points"][-1]["step"]
                now = time.perf_counter()
                first = first or (now, step)
                last = (now, step)
            elif line.startswith("data: ") and kind == "end":
                status = json.loads(line[6:])["status"]
                break
    rate = (last[1] - first[1]) / (last[0] - first[0]) if first and last and last[0] > first[0] else None
    return {"status": status, "first_ms": (first[0] - posted) * 1000 if first else None, "rate": rate}


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def classroom(results: list[dict], pace: float = PACE) -> str:
    done = sum(r["status"] == "done" for r in results)
    kept = sum(r["rate"] is not None and r["rate"] >= KEPT * pace for r in results)
    firsts = [r["first_ms"] for r in results if r["first_ms"] is not None]
    p50, p99 = (percentile(firsts, p) if firsts else float("nan") for p in (50, 99))
    share = kept / len(results)
    return f"{done:>4}/{len(results):<4} done  {share:>6.1%} kept pace  first point p50 {p50:6.1f} ms p99 {p99:6.1f} ms"


async def run_classroom(base: str, n: int) -> list[dict]:
    limits = httpx.Limits(max_connections=2 * n + 10, max_keepalive_connections=2 * n + 10)
    async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits) as client:
        return await asyncio.gather(*(student(client, i, "gradient-descent", {}) for i in range(n)))


async def lora_beside_paced(base: str) -> tuple[list[dict], list[dict], float]:
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    async with httpx.AsyncClient(base_url=base, timeout=300, limits=limits) as client:
        started = time.perf_counter()
        lora = [student(client, 1000 + i, "lora", {"pace": 0}) for i in range(2)]
        paced = [student(client, i, "gradient-descent", {"steps": 300}) for i in range(50)]
        results = await asyncio.gather(*lora, *paced)
        return results[:2], results[2:], time.perf_counter() - started


async def first_lora(base: str) -> dict:
    async with httpx.AsyncClient(base_url=base, timeout=120) as client:
        return await student(client, 0, "lora", {"steps": 20, "pace": 0})


def main(sizes: list[int]) -> None:
    print(f"{'N':>4}  gradient-descent, default params ({PACE:g} steps/s, 150 steps), all started at once")
    for n in sizes:
        with server(SERVE, ENV) as srv:
            wait_healthy(srv.base, 60, workers=True, process=srv.process)
            print(f"{n:>4}  {classroom(asyncio.run(run_classroom(srv.base, n)))}", flush=True)

    with server(SERVE, ENV) as srv:
        wait_healthy(srv.base, 60, workers=True, process=srv.process)
        lora, paced, seconds = asyncio.run(lora_beside_paced(srv.base))
        print(f"\n2 LoRA runs at pace 0 beside 50 paced runs (300 steps): paced {classroom(paced)}")
        print(f"      LoRA: {[r['status'] for r in lora]}, all done in {seconds:.1f} s")

    with server(SERVE, ENV) as srv:  # a fresh data dir; artifacts from `make setup`
        wait_healthy(srv.base, 60, workers=True, process=srv.process)
        first = asyncio.run(first_lora(srv.base))
        print(f"\nfirst LoRA run on a fresh data dir: first point after {first['first_ms']:.0f} ms ({first['status']})")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [25, 50, 100, 200])
