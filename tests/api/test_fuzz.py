"""Schemathesis over the OpenAPI schema against a real `modelterms serve`: requests that fit the
schema and requests that break it, a bounded number per operation. The bar: no 5xx at all."""

from __future__ import annotations

from collections import Counter

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from tests.api.test_selfhost import serving

EXAMPLES = 30  # per operation and mode: about a minute for the whole schema on a small machine


def test_no_request_the_schema_allows_or_breaks_makes_the_server_fail() -> None:
    tally: Counter[int] = Counter()
    failures: list[str] = []
    fuzz = settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,  # each run starts afresh: no replay of earlier runs' examples
        derandomize=True,  # the same cases every run, so a failure reproduces
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    small = {"workers": "1", "queue_size": "4", "max_run_seconds": "2", "idle_cancel_seconds": "1"}
    with serving(extra_demo_modules='["tests.support.demos"]', **small) as (server, _):
        schema = schemathesis.openapi.from_url(f"{server.base}/openapi.json")
        operations = [result.ok() for result in schema.get_all_operations()]
        assert len(operations) >= 15  # every demo's POST, and the other routes
        for operation in operations:
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

                @fuzz
                @given(case=operation.as_strategy(generation_mode=mode))
                def call(case: schemathesis.Case) -> None:
                    response = case.call(base_url=server.base, timeout=15)
                    tally[response.status_code] += 1
                    if response.status_code >= 500 and len(failures) < 20:
                        failures.append(f"{case.method} {case.formatted_path}: {response.status_code} {response.text}")

                try:
                    call()
                except Unsatisfiable:  # nothing to break in a request without parameters or body
                    assert mode is GenerationMode.NEGATIVE, operation.label
        log = server.log.read_text(errors="replace")  # all of it: a crash early on counts too
    cases, server_errors = sum(tally.values()), sum(n for status, n in tally.items() if status >= 500)
    print(f"\nschemathesis: {cases} cases over {len(operations)} operations; {server_errors} 5xx; {dict(tally)}")
    assert cases > 10 * len(operations)
    assert not failures, "\n".join(failures)
    assert "Traceback" not in log, log[max(0, log.index("Traceback") - 2000) :][:8000]
