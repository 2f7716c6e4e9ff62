"""A class with its board open: N students behind one address (a school's NAT) each start a paced
gradient-descent run while the teacher's board follows them all through its one stream.

Run: .venv/bin/python bench/bench_class_board.py [N] [BOARDS]      (default N = 60, BOARDS = 1)

The server runs with its default settings and no trusted proxy, so every student comes from
127.0.0.1 and only the per-student limit lets each have a run. Each student starts a run of
300 steps at 30 steps/s and follows its own stream, as a panel does. Reported, twice (without a
board, then with BOARDS boards of the class open: the teacher's, a projector, a reloaded tab; the
class's runs are followed once for all of them): runs done, the share that kept at least 0.95 of
their pace (as in bench_capacity.py), and the web process's CPU time over the class's wall time.
With the boards: how much later each point reached the first board than the student who ran it
(p50, p95), and the boards' cost as the difference in the web process's CPU, as a share of one
core and in seconds.
Targets (issue 33): every run keeps its pace, the board's points within 1 s (p95).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time

from _harness import BIN, server, wait_healthy
from bench_capacity import KEPT, PACE, head, percentile, request

SERVE = [str(BIN / "modelterms"), "serve"]
STEPS = 300
ADDRESS = "127.0.0.1"  # X-Forwarded-For is ignored (no trusted proxy): one address for the class


async def events(base: str, path: str, headers: dict[str, str]):
    """(arrival time, type, data) of each event of an SSE stream, over raw asyncio streams (see
    bench_capacity.student for why)."""
    host, port = base.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(head(f"GET {path}", ADDRESS, b"", headers))
    await reader.readuntil(b"\r\n\r\n")
    try:
        while True:
            size = int((await reader.readline()).strip(), 16)  # chunked
            chunk = (await reader.readexactly(size + 2))[:-2]
            if not size:
                return
            now = time.perf_counter()
            for frame in chunk.split(b"\n\n"):
                fields = dict(line.split(": ", 1) for line in frame.decode().split("\n") if ": " in line)
                if "event" in fields:
                    yield now, fields["event"], json.loads(fields["data"])
    finally:
        writer.close()


async def post(base: str, path: str, body: dict, headers: dict | None = None) -> dict:
    host, port = base.removeprefix("http://").split(":")
    raw = json.dumps(body).encode()
    fields = {"Content-Type": "application/json"} | (headers or {})
    status, answer = await request(host, int(port), f"POST {path}", ADDRESS, raw, fields)
    assert status == 201, (status, answer)
    return json.loads(answer)


async def student(base: str, token: str, seen: dict) -> dict:
    """Start a run as this student and follow it to its end; `seen[(run, step)]` = arrival time."""
    run = await post(base, "/api/demos/gradient-descent/runs", {"steps": STEPS}, {"X-ModelTerms-Student": token})
    first = last = None
    status = None
    async for now, kind, data in events(base, f"/api/runs/{run['id']}/events", {}):
        if kind == "metrics":
            for point in data["points"]:
                seen[(run["id"], point["step"])] = now
            step = data["points"][-1]["step"]
            first, last = first or (now, step), (now, step)
        elif kind == "end":
            status = data["status"]
            break
    rate = (last[1] - first[1]) / (last[0] - first[0]) if first and last and last[0] > first[0] else None
    return {"status": status, "rate": rate}


async def board(base: str, code: str, teacher: str, seen: dict, ended: asyncio.Event) -> None:
    async for now, kind, data in events(base, f"/api/classes/{code}/events", {"Authorization": f"Bearer {teacher}"}):
        if kind == "points":
            for run_id, points in data["runs"].items():
                for step, _loss in points:
                    seen[(run_id, step)] = now
        if ended.is_set():
            return


def web_cpu_seconds(pid: int) -> float:
    """utime + stime of the web process alone (its training workers are other processes)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100  # clock ticks: 100 a second on Linux


async def a_class(base: str, pid: int, n: int, boards: int) -> dict:
    """`boards`: how many boards of the class are open; the first one's arrival times are kept."""
    made = await post(base, "/api/classes", {"demo": "gradient-descent"})
    tokens = [(await post(base, f"/api/classes/{made['code']}/students", {}))["student_token"] for _ in range(n)]
    at_student, at_boards, ended = {}, [{} for _ in range(boards)], asyncio.Event()
    code, secret = made["code"], made["teacher_token"]
    watching = [asyncio.create_task(board(base, code, secret, seen, ended)) for seen in at_boards]
    await asyncio.sleep(0.5)  # the boards are open before the class presses Run
    cpu, wall = web_cpu_seconds(pid), time.perf_counter()
    results = await asyncio.gather(*(student(base, token, at_student) for token in tokens))
    wall, cpu = time.perf_counter() - wall, web_cpu_seconds(pid) - cpu
    await asyncio.sleep(1.0)  # the board's last points
    ended.set()
    for task in watching:
        task.cancel()
    at_board = at_boards[0] if at_boards else {}
    late = [at_board[key] - at for key, at in at_student.items() if key in at_board]
    return {"results": results, "wall": wall, "cpu": cpu, "late": late, "points": len(at_student)}


def report(name: str, outcome: dict) -> str:
    results = outcome["results"]
    done = sum(r["status"] == "done" for r in results)
    kept = sum(r["rate"] is not None and r["rate"] >= KEPT * PACE for r in results) / len(results)
    share = outcome["cpu"] / outcome["wall"]
    rate = percentile([r["rate"] or 0.0 for r in results], 50)
    return (
        f"{name}: {done}/{len(results)} done, {kept:.0%} kept pace (median {rate:.1f} steps/s), "
        f"web process {share:.1%} of a core over {outcome['wall']:.1f} s"
    )


def main(n: int, boards: int) -> None:
    print(f"{n} students behind one address, gradient-descent {STEPS} steps at {PACE:g} steps/s each")
    # Other work on the machine takes cores from the runs: the load says how much there was.
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    with server(SERVE) as srv:
        wait_healthy(srv.base, 60, workers=True, process=srv.process)
        alone = asyncio.run(a_class(srv.base, srv.process.pid, n, boards=0))
        print(report("without a board", alone), flush=True)
        watched = asyncio.run(a_class(srv.base, srv.process.pid, n, boards=boards))
        print(report(f"with {boards} board{'s' if boards > 1 else ''}  ", watched))
    late = watched["late"]
    print(
        f"board: {len(late)} of {watched['points']} points seen (thinned: at most about 200 a run), "
        f"later than at the student p50 {percentile(late, 50) * 1000:.0f} ms, "
        f"p95 {percentile(late, 95) * 1000:.0f} ms, max {max(late) * 1000:.0f} ms"
    )
    cost = watched["cpu"] / watched["wall"] - alone["cpu"] / alone["wall"]
    seconds = watched["cpu"] - alone["cpu"]  # steadier than the share when a loaded machine stretches the wall time
    print(
        f"the boards' aggregation: {cost:.1%} of one core, {seconds:.2f} s of CPU "
        "(web process CPU with the boards less without)"
    )
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 60, int(sys.argv[2]) if len(sys.argv) > 2 else 1)
