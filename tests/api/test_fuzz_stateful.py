"""Schemathesis, stateful: sequences of calls that follow the OpenAPI links of a started run (its
status, a live change, its cancel, its script), with the run's control token, against a real
`modelterms serve` on each backend. The bar: at least 1,000 calls a backend in every suite run, no
5xx, and every answer below 400 fits its schema.

Only the run operations take part (the catalogue's GETs are fuzzed one by one in test_fuzz.py),
and a live change is cut down to the fields its run's demo takes, so most calls start, change,
read, cancel or script a run instead of being turned away. `python -m tests.api.test_fuzz_stateful
N` runs N sequences a backend and prints the answers by operation and status."""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings

from tests.api.test_selfhost import serving
from tests.conftest import make_settings
from tests.support import cluster

# Never full, never over a client's limit: a 429 would empty the links' bundle at random, which
# Hypothesis takes for a flaky strategy. Runs stay short and unwatched ones go within a second. A
# live change waits at most 0.25 s for its worker to confirm it (then it is answered as due next
# step, as the API says): a change sent just after its run started waited ~1 s while the worker
# built the run's model, a third of the embedded run's time.
SMALL = {"queue_size": "1000", "runs_per_client": "10000", "max_run_seconds": "2", "max_run_wall_seconds": "5"}
SMALL |= {"idle_cancel_seconds": "1", "control_ack_seconds": "0.25", "extra_demo_modules": '["tests.support.demos"]'}
RUN_OPERATIONS = r"^/api/(demos/[^/]+/runs|runs/\{run_id\}(/script\.py)?)$"
SEQUENCES = 170  # derandomized: the same sequences, 1,282 calls, every run; 25-40 s a backend on 2 cores
STEPS = 8  # calls at most in one sequence


def stateful_run(base: str, sequences: int) -> tuple[Counter[tuple[str, int]], list[str]]:
    """Runs the state machine over the server's run operations; (answers by operation and
    status, failures)."""
    schema = schemathesis.openapi.from_url(f"{base}/openapi.json").include(path_regex=RUN_OPERATIONS)
    live = {d["name"]: set(d["live_params"]) | {"paused", "step_once"} for d in httpx.get(f"{base}/api/demos").json()}
    tokens: dict[str, str] = {}
    demo_of: dict[str, str] = {}
    tally: Counter[tuple[str, int]] = Counter()
    failures: list[str] = []

    class Machine(schema.as_state_machine()):  # type: ignore[misc]
        def before_call(self, case) -> None:
            run_id = (case.path_parameters or {}).get("run_id")
            if case.method in ("PATCH", "DELETE") and run_id in tokens:
                case.headers = {**(case.headers or {}), "Authorization": f"Bearer {tokens[run_id]}"}
            if case.method == "PATCH" and run_id in demo_of and isinstance(case.body, dict):
                # The body mixes every demo's live fields; keep the ones this run's demo takes.
                own = {k: v for k, v in case.body.items() if k in live[demo_of[run_id]]}
                case.body = own or case.body

        def call(self, case, **kwargs):
            return case.call(base_url=base, timeout=15)

        def after_call(self, response, case) -> None:
            tally[operation(case), response.status_code] += 1
            if response.status_code == 201 and case.method == "POST":
                body = json.loads(response.content)
                tokens[body["id"]] = body["control_token"]
                demo_of[body["id"]] = case.path.split("/")[3]

        def validate_response(self, response, case, additional_checks=None, **kwargs) -> None:
            # 501 is script.py's documented answer for a demo whose code cannot travel (the test demos).
            if response.status_code >= 500 and response.status_code != 501 and len(failures) < 20:
                failures.append(f"{case.method} {case.formatted_path}: {response.status_code} {response.content[:300]}")
            if response.status_code < 400:
                case.operation.validate_response(response)

    Machine.run(
        settings=settings(
            max_examples=sequences,
            deadline=None,
            database=None,
            derandomize=True,  # the same sequences every run, so a failure reproduces
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
            stateful_step_count=STEPS,
        )
    )
    return tally, failures


def operation(case) -> str:
    """`POST start`, `GET run`, `PATCH run`, `DELETE run` or `GET script`."""
    if case.method == "POST":
        return "POST start"
    return f"{case.method} {'script' if case.path.endswith('script.py') else 'run'}"


@contextmanager
def server_on(backend: str, folder: Path) -> Iterator[str]:
    """A real server on the backend (on Redis with two forked workers); yields its base URL."""
    if backend == "embedded":
        with serving(workers="1", **SMALL) as (server, _):
            yield server.base
        return
    with cluster.redis_server(folder / "redis") as url:
        workers = make_settings(folder / "workers", redis_url=url, redis_prefix="modelterms", **_typed(SMALL))
        with cluster.forked_workers(workers, 2), serving(redis_url=url, **SMALL) as (server, _):
            yield server.base


def _typed(values: dict[str, str]) -> dict:
    """SMALL as Settings fields (the server reads them from its environment as text)."""
    return {k: json.loads(v) if v.startswith("[") else float(v) if "." in v else int(v) for k, v in values.items()}


def by_status(tally: Counter[tuple[str, int]]) -> dict[int, int]:
    statuses: Counter[int] = Counter()
    for (_, status), count in tally.items():
        statuses[status] += count
    return dict(sorted(statuses.items()))


@pytest.mark.parametrize("backend", ["embedded", "redis"])
def test_a_thousand_stateful_calls_make_no_5xx_and_fit_the_schema(backend: str, tmp_path, request) -> None:
    """Over 5 s by design (25-40 s a backend here): the claim is a thousand calls a run; see `SEQUENCES`."""
    if backend == "redis":
        request.getfixturevalue("redis_url")  # skipped (or failed, in CI) without redis-server
    with server_on(backend, tmp_path) as base:
        tally, failures = stateful_run(base, SEQUENCES)
    print(f"\n{backend}: {sum(tally.values())} calls; {by_status(tally)}; {dict(sorted(tally.items()))}")
    assert not failures, "\n".join(failures)
    assert sum(tally.values()) >= 1000, dict(tally)
    # The calls do what a reader does: runs start, change live, are read, cancelled and scripted.
    for done in (("POST start", 201), ("GET run", 200), ("DELETE run", 200), ("GET script", 200)):
        assert tally[done] >= 5, (done, dict(tally))
    # A live change that passes validation and the token reaches its run, which takes it (200) or
    # refuses it for the state it is in (409: ended, or queued and asked to pause). Which of the
    # two depends on how far the run got, so on the machine's load: 4 to 34 of the same sequences
    # were answered 200 (4 in a CI run at load 2, where 17 more were answered 409). Together they
    # show the fuzzer gets past the checks into the run's own state, whatever the timing.
    assert tally["PATCH run", 200] + tally["PATCH run", 409] >= 5, dict(tally)


def main(sequences: int) -> None:
    """A longer run on both backends, printing the answers by operation and status."""
    import tempfile

    for backend in ("embedded", "redis"):
        started = time.monotonic()
        with tempfile.TemporaryDirectory() as folder, server_on(backend, Path(folder)) as base:
            tally, failures = stateful_run(base, sequences)
        seconds = time.monotonic() - started
        print(f"{backend}: {sum(tally.values())} calls in {seconds:.0f} s; {by_status(tally)}", flush=True)
        for (name, status), count in sorted(tally.items()):
            print(f"  {name} {status}: {count}")
        print("  failures:", failures or "none", flush=True)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
