"""ARCHITECTURE.md names real files: a module moved or renamed without the page fails here."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PAGE = (ROOT / "ARCHITECTURE.md").read_text()


def test_every_app_path_it_names_exists() -> None:
    # `app/demos/<name>.py` stands for every declaration, so a placeholder is not a path.
    named = {p for p in re.findall(r"app/[\w/.]*", PAGE) if p.endswith((".py", "/"))}
    assert "app/playground/core/scheduler.py" in named  # the pattern finds the page's paths
    missing = sorted(p for p in named if not (ROOT / p).exists())
    assert not missing, f"ARCHITECTURE.md names paths that do not exist: {missing}"


def test_every_playground_module_in_its_rules_table_exists() -> None:
    """The rules table names modules relative to app/playground/ (`core/interface.py`)."""
    table = PAGE.split("## Where each rule lives", 1)[1].split("\n## ", 1)[0]
    named = set(re.findall(r"`(?!app/)(\w+/\w+\.py)`", table))
    assert "core/interface.py" in named
    missing = sorted(p for p in named if not (ROOT / "app/playground" / p).exists())
    assert not missing, f"ARCHITECTURE.md's rules table names modules that do not exist: {missing}"
