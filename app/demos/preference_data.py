"""Preference data: pairs of samples from the SFT policy, labelled by a simulated annotator."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from app.demos._preference import Noise
from app.demos.base import Chart, Demo, DemoParams
from app.demos.fields import Pace, Seed, Steps


class Params(DemoParams):
    noise: Noise = 0.1
    temperature: float = Field(
        2.0,
        ge=0.05,
        le=10,
        description="Bradley–Terry temperature: small = the annotator always picks the better.",
    )
    pairs_per_step: int = Field(32, ge=1, le=256)
    steps: Annotated[Steps, Field(le=500)] = 100
    pace: Pace = 10
    seed: Seed = 0


DEMO = Demo(
    name="preference-data",
    title="Preference data: pairs, labels and noise",
    terms=("preference-data",),
    Params=Params,
    train="app.training.preference_data:train",
    live=frozenset({"noise", "pace"}),
    charts=(
        Chart("Labels that agree with the true reward", ("agreement_rate", "flipped_rate")),
        Chart("Bradley–Terry loss of the labels under the true reward", ("loss",)),
    ),
    blurb=(
        "Each step samples pairs of responses from the SFT policy and labels them like an annotator: the "
        "higher true reward usually wins, and a fraction `noise` of labels is flipped. Raise the noise and "
        "watch agreement fall towards one half; lower the temperature to make the annotator decisive."
    ),
)
