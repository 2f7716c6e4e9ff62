"""The demo protocol: what a playground demo declares, and the handle it trains against.

A demo is two modules: a declaration (`app/demos/<name>.py`: its Params, charts, live params,
texts and `DEMO = Demo(..., train="app.training.<name>:train")`) and a training module
(`app/training/<name>.py`, a PyTorch program whose `train` yields one metric point, or one point
per series, per step). The engine in `app.playground` owns processes, budgets, event batching,
divergence detection and storage.

Declarations stay importable without torch: the web process reads them, and reaches the
training code only by its name, in the worker processes that train (an import rule in lint).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol, TypeVar, get_args, get_origin

from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator, model_validator
from pydantic.fields import FieldInfo

from app.demos.artifacts import Artifact, ArtifactStore, resolve

Point = dict[str, Any]
"""One logged step: at least `step` and `loss`; multi-series demos add `series`.

A loss that is not finite or exceeds the demo's `loss_bound` ends the run as `diverged`,
unless the point carries `"diverged": True`: then the demo has stopped that series itself."""


# Labels for field names many demos share, so no control reads "Lr" or "N Pairs". A field's own
# `title=` wins; any other name is its words, capitalised ("label_smoothing" -> "Label smoothing").
SHARED_TITLES = {
    "lr": "Learning rate",
    "lr_min": "Lowest learning rate",
    "lr_max": "Highest learning rate",
    "n_pairs": "Preference pairs",
    "pairs_per_step": "Pairs per step",
    "x0": "Start x",
    "y0": "Start y",
    "use_rslora": "rsLoRA scaling",
    "compare_full": "Compare with full fine-tuning",
    "compare_lora": "Compare with plain LoRA",
    "compare_rlhf": "Compare with RLHF",
    "double_quant": "Double quantization",
    "blocksize": "Block size",
    "hidden": "Hidden width",
    "series": "Rates compared",
    "loss_type": "Loss",
}


MAX_PACE = 240.0
MIN_PACE = 0.5  # slower, a run would sleep through its wall-time budget between a handful of steps


def field_title(name: str, _info: Any) -> str:
    return SHARED_TITLES.get(name) or name.replace("_", " ").capitalize()


class DemoParams(BaseModel):
    """Base of every demo's params: unknown fields, NaN or infinite numbers, a number given as
    true/false or as a string, and a yes/no given as anything but true/false are all errors."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, field_title_generator=field_title)

    @field_validator("*", mode="before")
    @classmethod
    def _strict_json_types(cls, value: Any, info: ValidationInfo) -> Any:
        # pydantic would read JSON `true` as the number 1, "0.05" as 0.05 and "yes" as true. In a
        # JSON body each is a mistake (or a form posted cross-site), so only JSON's own types count.
        annotation = cls.model_fields[info.field_name].annotation if info.field_name else None
        if annotation is bool and not isinstance(value, bool):
            raise ValueError("must be true or false")
        if _is_number(annotation) and isinstance(value, bool):
            raise ValueError("must be a number, not true or false")
        if _is_number(annotation) and isinstance(value, str):
            raise ValueError("must be a number, not a string")
        return value

    @model_validator(mode="before")
    @classmethod
    def _omitted_fields_suit_the_choices(cls, raw: Any) -> Any:
        # A choice that comes with its own settings (`suggests`: each surface its start) lends them
        # to the fields a request leaves out, as picking it in the panel does: the plain defaults
        # may not fit it (a start off that surface's map).
        if not isinstance(raw, dict):
            return raw
        filled = dict(raw)
        for name, info in cls.model_fields.items():
            extra = _schema_extra(info)
            choice = raw.get(name, info.default)
            if isinstance(suggestions := extra.get("suggests"), dict) and isinstance(choice, str):
                suggested = suggestions.get(choice)
                if isinstance(suggested, dict):
                    filled |= {k: v for k, v in suggested.items() if k not in raw}
        return filled

    @field_validator("pace", check_fields=False)
    @classmethod
    def _pace_is_full_speed_or_readable(cls, value: float) -> float:
        if 0 < value < MIN_PACE:
            raise ValueError(f"must be 0 (as fast as possible) or at least {MIN_PACE} per second")
        return value


def _is_number(annotation: Any) -> bool:
    """int, float, or a Literal of numbers (a block size of 32, 64, ...)."""
    if get_origin(annotation) is Literal:
        return all(isinstance(a, int | float) and not isinstance(a, bool) for a in get_args(annotation))
    return annotation in (int, float)


def only_when(**choices: str | tuple[str, ...]) -> dict[str, Any]:
    """Schema extra for a field that matters only under some choices of others (lr_min only in a
    range test, momentum only with a momentum optimizer): the panel disables it otherwise."""
    return {"only_when": {name: [v] if isinstance(v, str) else list(v) for name, v in choices.items()}}


def suggests(settings: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Schema extra for a choice that comes with settings suited to it (each surface with a start
    on its map and a learning rate it survives): picking it in the panel sets them and says so.
    Share links and presets keep their own values."""
    return {"suggests": settings}


def log_slider(ui_min: float) -> dict[str, Any]:
    """`json_schema_extra` for a number that spans decades (a learning rate, beta): the panel draws
    a log-scale slider from `ui_min`, since the field's own lower bound is often an open 0."""
    return {"scale": "log", "ui_min": ui_min}


ParamsT_co = TypeVar("ParamsT_co", bound="DemoParams", covariant=True)


class Control(Protocol[ParamsT_co]):
    """What a training function may ask of the engine between steps; `Control[Params]` for a
    demo whose params are `Params`, so a training function reads its live params typed."""

    @property
    def params(self) -> ParamsT_co:
        """The current params, with every live change applied so far."""

    @property
    def device(self) -> str:
        """'cpu' or 'cuda': where tensors of this run belong."""

    def artifact(self, artifact: Artifact) -> Path:
        """The file of a prepared artifact the demo declared (in `Demo.artifacts`), ready to load.

        The engine builds a missing one before the run starts, outside its budget."""

    def announce(self, **facts: Any) -> None:
        """Add demo-specific facts (parameter counts, ...) to the run's `start` event.

        Call it before the first yield; facts announced later are ignored.
        """


TrainFn = Callable[[Any, Control[Any]], Iterator[Point | list[Point]]]
"""Yields once per step; its return value (a dict) becomes the `end` event's summary."""


@dataclass(frozen=True)
class Chart:
    """One chart of the playground panel: `y` keys plotted against `x`."""

    title: str
    y: tuple[str, ...] = ("loss",)
    x: str = "step"
    log_y: bool = False
    log_x: bool = False
    x_choices: tuple[str, ...] = ()
    """Other point keys the reader may switch the x axis to (e.g. "tokens", "flops", "seconds")."""
    only_when: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Param choices under which the chart means something ({"mode": ("range_test",)}); hidden otherwise."""
    marks: Literal["line", "dots"] = "line"
    """How a series is drawn against an x that is not the step, on screen and in the exported
    figure: "line" joins its points in the order they were logged (a path on a surface, a sweep
    of rates); "dots" draws each point alone, a scatter, for an x that does not grow with the step
    (KL to the reference can fall back, and a line would zigzag through step order)."""

    def __post_init__(self) -> None:
        if self.marks == "dots" and "step" in (self.x, *self.x_choices):
            raise ValueError(f"chart {self.title!r}: dots are for an x other than the step")


@dataclass(frozen=True)
class Demo:
    name: str
    title: str
    terms: tuple[str, ...]
    Params: type[DemoParams]
    train: TrainFn | str
    """'app.training.<name>:train': the training function, imported only where a run trains. (A
    function itself serves in-process tests and benchmarks; no script can be made of it.)"""
    live: frozenset[str] = frozenset({"lr"})
    charts: tuple[Chart, ...] = (Chart("Loss", log_y=True),)
    loss_bound: float = math.inf
    """A loss above this bound ends the run as `diverged`, like a non-finite loss."""
    blurb: str = ""
    feeds: tuple[str, ...] = ()
    """Point keys whose text values (a generated sample, completions) stream into the panel's
    feed as they arrive, newest first, labelled with their step (and series)."""
    artifacts: tuple[Artifact, ...] = ()
    """What the demo needs prepared before a run can start (see app.demos.artifacts)."""
    extras: Mapping[str, Any] = field(default_factory=dict)
    """Free-form facts the panel template may use (e.g. the surfaces to draw)."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """How the panel names a fact or summary figure whose key does not read as words
    ("kaplan_estimate_12_l_d2"); any other key is shown as its words ("flops_per_token")."""
    summary_notes: Mapping[str, str] = field(default_factory=dict)
    """What a figure of the run's summary is, by its key (at any depth), where the key alone would
    let a reader take it for something the charts show: a mean of the last steps, a state after
    the last plotted point. The panel prints the note beside the figure."""
    machine_metrics: frozenset[str] = frozenset()
    """Point keys that measure the machine, not the training (wall seconds, FLOP/s): a run's
    downloaded script prints its own, and says they differ."""
    withhold: Callable[[dict[str, Any]], tuple[dict[str, Any], dict[str, Any]]] | None = None
    """Splits a run's params into (shown, withheld): what the server may keep and show, and what
    only the worker may have (a reader's text). See `shown` and `trained`."""
    creator_only: frozenset[str] = frozenset()
    """Start facts and point keys that show what a run withheld (a sample written from a reader's
    text, its opening, its characters): on such a run they go to its creator alone, live, and
    are neither stored nor served to anyone else. See `hidden_outputs`."""

    def steps(self, params: DemoParams, control: Control[Any]) -> Iterator[Point | list[Point]]:
        """Start training: the generator that yields each step's points (its return value is the
        run's summary). Imports the training module, and with it torch, on first use."""
        train = resolve(self.train) if isinstance(self.train, str) else self.train
        return train(params, control)

    def parse(self, raw: Mapping[str, Any]) -> DemoParams:
        return self.Params.model_validate(dict(raw))

    def private_split(self, params: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        return self.withhold(dict(params)) if self.withhold else (dict(params), {})

    def shown(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """A run's params as the store keeps them and its permalink, `start` event and status show
        them (shown params give themselves back)."""
        return self.private_split(params)[0]

    def link_params(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """The params a share link may carry: the demo's own fields, none of them private (a
        reader's text, marked so in its schema) or empty."""
        fields = self.Params.model_fields
        return {
            k: v
            for k, v in params.items()
            if k in fields and v is not None and not _schema_extra(fields[k]).get("private")
        }

    def hidden_outputs(self, withheld: Mapping[str, Any]) -> frozenset[str]:
        """The event keys only the creator of a run that withheld `withheld` may read."""
        return self.creator_only if withheld else frozenset()

    def trained(self, shown: Mapping[str, Any], withheld: Mapping[str, Any]) -> dict[str, Any]:
        """The params a worker trains on, put back together from the two parts of `private_split`."""
        return {k: v for k, v in shown.items() if k in self.Params.model_fields} | dict(withheld)


class InlineControl:
    """A `Control` for running a demo in-process: tests, benchmarks, the bare baseline.

    The engine's worker extends it with pacing, pausing and messages to the web process.
    """

    def __init__(self, params: DemoParams, device: str = "cpu", artifacts: ArtifactStore | None = None) -> None:
        self._params = params
        self._device = device
        self._artifacts = artifacts or default_artifacts()
        self.facts: dict[str, Any] = {}

    @property
    def params(self) -> DemoParams:
        return self._params

    @property
    def device(self) -> str:
        return self._device

    def artifact(self, artifact: Artifact) -> Path:
        # In-process runs (tests, benchmarks) build what is missing on the spot.
        return self._artifacts.ensure(artifact)

    def announce(self, **facts: Any) -> None:
        self.facts.update(facts)

    def change(self, **changes: Any) -> None:
        """Apply a live change, as a PATCH would between two steps."""
        self._params = self._params.model_copy(update=changes)


def default_artifacts() -> ArtifactStore:
    """The artifacts folder the server uses, MODELTERMS_ARTIFACTS_DIR (read now, so tests may set it)."""
    from app.settings import Settings

    return ArtifactStore(Settings().artifacts_dir)


def run_inline(
    demo: Demo,
    params: DemoParams,
    device: str = "cpu",
    after_each: Callable[[list[Point], InlineControl], None] | None = None,
) -> tuple[list[Point], dict, InlineControl]:
    """Run a demo to the end in this process; returns (points, summary, control). `after_each`:
    called with the points so far and the control after every yield, where a reader's live change
    would land (a test changes params there as a PATCH would)."""
    control = InlineControl(params, device)
    points: list[Point] = []
    steps = demo.steps(params, control)
    while True:
        try:
            out = next(steps)
        except StopIteration as stop:
            return points, stop.value or {}, control
        points.extend(out if isinstance(out, list) else [out])
        if after_each is not None:
            after_each(points, control)


def _schema_extra(info: FieldInfo) -> dict[str, Any]:
    """A field's `json_schema_extra` as the dict every demo declares it as (pydantic also allows a function)."""
    return info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
