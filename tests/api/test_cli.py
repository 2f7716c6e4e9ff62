"""The command line: `check` reports every problem as file:line; `serve` refuses broken content."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.support.content import write_category, write_term


def modelterms(*args: str, content=None, timeout: float = 60) -> subprocess.CompletedProcess:
    env = os.environ.copy()
    if content is not None:
        env["MODELTERMS_CONTENT_DIRS"] = json.dumps([str(content)])
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args], env=env, capture_output=True, text=True, timeout=timeout
    )


def test_check_passes_on_the_real_content() -> None:
    result = modelterms("check")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("ok: 18 terms")


def test_check_lists_each_problem_and_fails(tmp_path) -> None:
    folder = write_category(tmp_path)
    path = write_term(folder, "x", related=["ghost"], body="$$\n\\nosuchmacro\n$$\n")
    result = modelterms("check", content=tmp_path)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert f"{path}:1: related: unknown term 'ghost'" in lines
    assert any(line.startswith(f"{path}:") and "\\nosuchmacro" in line for line in lines)
    assert "2 problem(s)" in result.stderr


def test_serve_refuses_to_start_on_broken_content(tmp_path) -> None:
    folder = write_category(tmp_path)
    write_term(folder, "x", level="guru")
    result = modelterms("serve", "--port", "1", content=tmp_path)
    assert result.returncode == 2
    assert "refusing to start" in result.stderr and "level" in result.stderr


def test_serve_help_lists_every_setting() -> None:
    from app.settings import Settings

    result = modelterms("serve", "--help")
    for name in Settings.model_fields:
        assert f"MODELTERMS_{name.upper()}" in result.stdout
