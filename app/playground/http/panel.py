"""The playground panel, generated from a demo's params schema (one declaration drives all)."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any, TypedDict

from jinja2 import Environment

from app.demos.base import Demo

PanelRenderer = Callable[..., str]


@dataclass(frozen=True)
class Control:
    name: str
    label: str
    kind: str  # range | log | select | checkbox | checkboxes | number | textarea
    default: Any
    live: bool
    help: str = ""
    min: float | None = None
    max: float | None = None
    step: float | str | None = None
    options: tuple[Any, ...] = ()


def _bounds(prop: dict[str, Any]) -> tuple[float | None, float | None]:
    low = prop.get("minimum", prop.get("exclusiveMinimum"))
    high = prop.get("maximum", prop.get("exclusiveMaximum"))
    return low, high


def help_text(label: str, description: str) -> str:
    """A field's help line, unless it only repeats the label ("Start x." under "Start x")."""
    return "" if description.strip().rstrip(".").casefold() == label.casefold() else description


class _CommonFields(TypedDict):
    """What every kind of control takes, typed so that it can be passed on as keywords."""

    name: str
    label: str
    default: Any
    live: bool
    help: str


def control_for(name: str, prop: dict[str, Any], live: bool) -> Control:
    label = prop.get("title") or name.replace("_", " ")
    common: _CommonFields = {
        "name": name,
        "label": label,
        "default": prop.get("default"),
        "live": live,
        "help": help_text(label, prop.get("description", "")),
    }
    if prop.get("widget") == "textarea":  # an optional text: its bounds sit in the string branch of anyOf
        branches: list[dict[str, Any]] = prop.get("anyOf", [prop])
        text = next((branch for branch in branches if branch.get("type") == "string"), {})
        return Control(kind="textarea", min=prop.get("min_chars"), max=text.get("maxLength"), **common)
    if "enum" in prop:
        return Control(kind="select", options=tuple(prop["enum"]), **common)
    if prop.get("type") == "boolean":
        return Control(kind="checkbox", **common)
    if prop.get("type") == "array":
        return Control(kind="checkboxes", options=tuple(prop.get("items", {}).get("enum", ())), **common)
    low, high = _bounds(prop)
    if prop.get("type") == "integer" and low is not None and high is not None and low >= 1 and high / low >= 100:
        # A count spanning decades (steps 1-5000, pairs 16-20000) on a log slider, so that its
        # default (150 steps) does not sit at the far left; the box beside it takes any count.
        return Control(kind="log", min=low, max=high, step=1, **common)
    if prop.get("scale") == "log":
        # A log slider moves over log10(value); the page maps it back (see playground.js).
        return Control(kind="log", min=prop.get("ui_min", low), max=high, step="any", **common)
    if low is not None and high is not None and (high - low) <= 10_000:
        # A power of ten about 1/200 of the range, so defaults like 2 or 0.1 sit exactly on a tick.
        step = 1 if prop.get("type") == "integer" else 10 ** math.floor(math.log10((high - low) / 200))
        return Control(kind="range", min=low, max=high, step=step, **common)
    return Control(kind="number", min=low, max=high, step=1 if prop.get("type") == "integer" else "any", **common)


COMMON_LAST = ("seed", "pace")
"""Knobs (nearly) every demo has: the panel lists them after the demo's own (a params class may
inherit them ahead of its own fields), and before a reader's text, which closes the form."""


def controls(demo: Demo) -> list[Control]:
    schema = demo.Params.model_json_schema()
    every = [control_for(name, prop, name in demo.live) for name, prop in schema["properties"].items()]
    own = [c for c in every if c.name not in COMMON_LAST]
    text_at = next((i for i, c in enumerate(own) if c.kind == "textarea"), len(own))
    return own[:text_at] + [c for c in every if c.name in COMMON_LAST] + own[text_at:]


def demo_json(demo: Demo, with_extras: bool = False) -> dict[str, Any]:
    data = {
        "name": demo.name,
        "title": demo.title,
        "terms": list(demo.terms),
        "blurb": demo.blurb,
        "params_schema": demo.Params.model_json_schema(),
        "live_params": sorted(demo.live),
        "charts": [asdict(c) for c in demo.charts],
        "feeds": list(demo.feeds),
        "labels": dict(demo.labels),
        "summary_notes": dict(demo.summary_notes),
        "runs_url": f"/api/demos/{demo.name}/runs",
    }
    if with_extras:
        data["extras"] = dict(demo.extras)
    return data


def panel_renderer(templates: Environment, demos: Mapping[str, Demo]) -> PanelRenderer:
    template = templates.get_template("partials/panel.html")

    def render(name: str, run_id: str | None = None) -> str:
        demo = demos[name]
        config = {
            "name": demo.name,
            "charts": [asdict(c) for c in demo.charts],
            "feeds": list(demo.feeds),
            "labels": dict(demo.labels),
            "summaryNotes": dict(demo.summary_notes),
            "live": sorted(demo.live),
            # The params schema drives the page's state: bounds checks and the share link.
            "schema": demo.Params.model_json_schema(),
            "runId": run_id,
        }
        return template.render(demo=demo, controls=controls(demo), config=json.dumps(config), run_id=run_id)

    blank = {name: render(name) for name in demos}  # a fresh panel is the same on every page showing it

    def panel(name: str, run_id: str | None = None) -> str:
        return render(name, run_id) if run_id else blank[name]

    return panel
