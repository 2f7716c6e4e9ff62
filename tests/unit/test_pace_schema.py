"""Every demo's schema states pace's gap (0, or at least MIN_PACE) as its validator enforces it, so
a client or a fuzzer that reads /api/demos or /openapi.json learns the rule instead of a 422."""

from __future__ import annotations

import jsonschema_rs
import pydantic
import pytest

from app.demos import load_demos
from app.demos.base import MAX_PACE, MIN_PACE

DEMOS = load_demos()


@pytest.mark.parametrize("name", sorted(DEMOS))
@pytest.mark.parametrize("pace", [0, MIN_PACE / 2, MIN_PACE, MAX_PACE, MAX_PACE + 1, -1])
def test_the_schema_and_the_validator_agree_on_pace(name: str, pace: float) -> None:
    demo = DEMOS[name]
    schema = demo.Params.model_json_schema()["properties"]["pace"]
    allowed_by_schema = jsonschema_rs.validator_for(schema).is_valid(pace)
    try:
        demo.Params.model_validate({"pace": pace})
        allowed_by_model = True
    except pydantic.ValidationError:
        allowed_by_model = False
    assert allowed_by_schema == allowed_by_model == (pace == 0 or MIN_PACE <= pace <= MAX_PACE)
