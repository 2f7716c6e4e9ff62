"""The demo registry: every module in this package that defines `DEMO` is a playground.

Adding a demo means adding one module here; nothing else has to list it.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterable

from app.demos.base import Demo

_NOT_DEMOS = {"base"}


def _discover(module_names: Iterable[str]) -> dict[str, Demo]:
    demos: dict[str, Demo] = {}
    for module_name in module_names:
        demo = getattr(importlib.import_module(module_name), "DEMO", None)
        if demo is None:
            continue
        if demo.name in demos:
            raise ValueError(f"two demos are named {demo.name!r}")
        demos[demo.name] = demo
    return demos


def load_demos(extra_modules: Iterable[str] = ()) -> dict[str, Demo]:
    """All built-in demos, plus demos from `extra_modules` (used by tests)."""
    own = (f"{__name__}.{m.name}" for m in pkgutil.iter_modules(__path__) if m.name not in _NOT_DEMOS)
    return _discover([*own, *extra_modules])
