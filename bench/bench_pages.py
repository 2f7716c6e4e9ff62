"""Term-page serving against a bare prebuilt-bytes response, and time to first /healthz.

Run: .venv/bin/python bench/bench_pages.py      (needs wrk: apt-get install -y wrk)
Targets (issue 2): page throughput >= 0.9 x baseline; page p99 < 10 ms at 20 connections;
`modelterms serve` to first 200 on /healthz < 1.5 s.
"""

from __future__ import annotations

import statistics
import time

from _harness import BIN, server, wait_healthy, wrk

UVICORN = [str(BIN / "uvicorn"), "bench._bench_app:create_bench_app", "--factory", "--log-level", "warning"]


def page_throughput(rounds: int = 3) -> None:
    with server(UVICORN, {"MODELTERMS_WORKERS": "1"}) as running:
        base = running.base
        wait_healthy(base, workers=True, process=running.process)
        wrk(f"{base}/terms/gradient-descent", seconds=2)  # warm up
        page, baseline = [], []
        for _ in range(rounds):  # interleaved, so drift on a shared machine hits both alike
            page.append(wrk(f"{base}/terms/gradient-descent"))
            baseline.append(wrk(f"{base}/bench/prebuilt"))
    rps_page = statistics.median(r["rps"] for r in page)
    rps_base = statistics.median(r["rps"] for r in baseline)
    p99 = statistics.median(r["p99_ms"] for r in page)
    print(
        f"term page      : {rps_page:9.0f} req/s   p50 {statistics.median(r['p50_ms'] for r in page):.2f} ms"
        f"   p99 {p99:.2f} ms  (20 connections)"
    )
    print(f"prebuilt bytes : {rps_base:9.0f} req/s   p99 {statistics.median(r['p99_ms'] for r in baseline):.2f} ms")
    print(
        f"ratio page/baseline = {rps_page / rps_base:.3f}   (target >= 0.9)   p99 target < 10 ms: "
        f"{'ok' if p99 < 10 else 'MISSED'}"
    )


def startup(rounds: int = 5) -> None:
    times = []
    for _ in range(rounds):
        with server([str(BIN / "modelterms"), "serve"]) as running:
            wait_healthy(running.base, process=running.process)
            times.append(time.perf_counter() - running.started)
            wait_healthy(running.base, workers=True)  # let the workers finish loading before the next start
    print(
        f"serve -> first /healthz 200: median {statistics.median(times):.3f} s, max {max(times):.3f} s "
        f"over {rounds} starts (target < 1.5 s)"
    )


if __name__ == "__main__":
    startup()
    page_throughput()
