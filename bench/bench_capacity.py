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

Each row also says what the class asks of the machine: N x pace steps a second, each costing what
one step of the same run costs in a bare loop in this process (measured first, in this run), as a
number of cores. Above the machine's cores no engine can keep every run at its pace.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time

from _harness import BIN, server, wait_healthy
from bench_engine import bare_rate

SERVE = [str(BIN / "modelterms"), "serve"]
ENV = {"MODELTERMS_TRUSTED_PROXIES": '["127.0.0.1"]'}
PACE = 30.0
KEPT = 0.95


async def student(base: str, who: int, demo: str, params: dict) -> dict:
    """POST a run as student `who` and follow it to `end`: first-point latency, pace, status.

    Raw HTTP over asyncio streams: with hundreds of streams in one process, an HTTP client
    library's per-line parsing would make the client, not the server, the bottleneck."""
    host, port = base.removeprefix("http://").split(":")
    forwarded = f"10.1.{who // 250}.{who % 250 + 1}"
    body = json.dumps(params).encode()
    posted = time.perf_counter()
    status_code, answer = await request(
        host, int(port), f"POST /api/demos/{demo}/runs", forwarded, body, {"Content-Type": "application/json"}
    )
    answered_ms = (time.perf_counter() - posted) * 1000
    if status_code != 201:
        return {"status": f"HTTP {status_code}", "first_ms": None, "rate": None, "answered_ms": answered_ms}
    run_id = json.loads(answer)["id"]
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(head(f"GET /api/runs/{run_id}/events", forwarded, b"", {}))
    await reader.readuntil(b"\r\n\r\n")
    first = last = None
    status = None
    try:
        while status is None:
            size = int((await reader.readline()).strip(), 16)  # chunked: one chunk per event here
            chunk = (await reader.readexactly(size + 2))[:-2]
            if not size:
                break
            now = time.perf_counter()
            for frame in chunk.split(b"\n\n"):
                if frame.startswith(b"id: ") and b"\nevent: metrics\n" in frame:
                    step = json.loads(frame.split(b"\ndata: ", 1)[1])["points"][-1]["step"]
                    first = first or (now, step)
                    last = (now, step)
                elif b"\nevent: end\n" in frame:
                    status = json.loads(frame.split(b"\ndata: ", 1)[1])["status"]
    finally:
        writer.close()
    rate = (last[1] - first[1]) / (last[0] - first[0]) if first and last and last[0] > first[0] else None
    first_ms = (first[0] - posted) * 1000 if first else None
    return {"status": status, "first_ms": first_ms, "rate": rate, "answered_ms": answered_ms}


def head(line: str, forwarded: str, body: bytes, headers: dict[str, str]) -> bytes:
    fields = {"Host": "bench", "X-Forwarded-For": forwarded, "Content-Length": str(len(body))} | headers
    return (f"{line} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in fields.items()) + "\r\n").encode() + body


async def request(host: str, port: int, line: str, forwarded: str, body: bytes, headers: dict) -> tuple[int, bytes]:
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(head(line, forwarded, body, headers | {"Connection": "close"}))
    raw = await reader.read()
    writer.close()
    status_line, _, rest = raw.partition(b"\r\n")
    return int(status_line.split()[1]), rest.partition(b"\r\n\r\n")[2]


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def classroom(results: list[dict], pace: float = PACE) -> str:
    done = sum(r["status"] == "done" for r in results)
    kept = sum(r["rate"] is not None and r["rate"] >= KEPT * pace for r in results)
    firsts = [r["first_ms"] for r in results if r["first_ms"] is not None]
    p50, p99 = (percentile(firsts, p) if firsts else float("nan") for p in (50, 99))
    answered = [r["answered_ms"] for r in results]
    share = kept / len(results)
    return (
        f"{done:>4}/{len(results):<4} done  {share:>6.1%} kept pace  first point p50 {p50:6.1f} ms p99 {p99:6.1f} ms"
        f"  (POST answered p50 {percentile(answered, 50):6.1f} ms p99 {percentile(answered, 99):6.1f} ms)"
    )


async def run_classroom(base: str, n: int) -> list[dict]:
    return await asyncio.gather(*(student(base, i, "gradient-descent", {}) for i in range(n)))


async def lora_beside_paced(base: str) -> tuple[list[dict], list[dict], float]:
    started = time.perf_counter()
    lora = [student(base, 1000 + i, "lora", {"pace": 0}) for i in range(2)]
    paced = [student(base, i, "gradient-descent", {"steps": 300}) for i in range(50)]
    results = await asyncio.gather(*lora, *paced)
    return results[:2], results[2:], time.perf_counter() - started


async def first_lora(base: str) -> dict:
    return await student(base, 0, "lora", {"steps": 20, "pace": 0})


def main(sizes: list[int]) -> None:
    bare_steps_per_cpu_second = max(bare_rate("gradient-descent", {"pace": 0})[1] for _ in range(3))
    cores = os.cpu_count()
    print(f"a bare default gradient-descent step: {1000 / bare_steps_per_cpu_second:.3f} ms of CPU; {cores} cores")
    print(f"{'N':>4}  gradient-descent, default params ({PACE:g} steps/s, 150 steps), all started at once")
    for n in sizes:
        demand = n * PACE / bare_steps_per_cpu_second
        with server(SERVE, ENV) as srv:
            wait_healthy(srv.base, 60, workers=True, process=srv.process)
            row = classroom(asyncio.run(run_classroom(srv.base, n)))
            print(f"{n:>4}  {row}  [asks {demand:.2f} of {cores} cores in bare steps]", flush=True)

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
