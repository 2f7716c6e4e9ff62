"""What the four preference playgrounds share (not a demo: it defines no DEMO).

One declaration per knob, so the same knob has the same bounds and help text on every page.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from app.demos.base import log_slider
from app.demos.fields import LearningRate

Noise = Annotated[
    float, Field(ge=0, le=0.5, description="Probability that an annotator's label is flipped (label noise).")
]
NPairs = Annotated[int, Field(ge=16, le=20_000, description="Preference pairs in the dataset.")]
Beta = Annotated[
    float,
    Field(
        gt=0,
        le=10,
        description="β: the KL penalty, how strongly the policy is held to the reference.",
        json_schema_extra=log_slider(1e-3),
    ),
]
PolicyLR = Annotated[LearningRate, Field(le=0.1, description="Adam learning rate of the policy.")]

SUMMARY_WINDOW = 10
"""The steps a preference run's summary averages (app.ml.pref_world.summarize's width): one batch's
figures scatter, so the summary's differ from the charts' last points."""


def window_notes(*keys: str) -> dict[str, str]:
    """The summary notes of a preference run whose summary averages `keys` (see Demo.summary_notes)."""
    return {key: f"mean of the last {SUMMARY_WINDOW} steps" for key in keys} | {
        "true_reward_peak": f"the best mean of {SUMMARY_WINDOW} steps in a row"
    }
