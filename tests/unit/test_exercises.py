"""Guided exercises in front matter: `modelterms check` validates each preset against its demo."""

from __future__ import annotations

from pathlib import Path

from app.demos import load_demos
from app.glossary.content import load_glossary
from app.settings import ROOT
from tests.support.content import write_category

DEMOS = load_demos()


def term_with(folder: Path, exercises: str, demo: str | None = "gradient-descent") -> Path:
    path = folder / "x.md"
    demo_line = f"demo: {demo}\n" if demo else ""
    front = f"title: X\nlevel: beginner\nsummary: A term for the test.\n{demo_line}{exercises}"
    path.write_text(f"---\n{front}---\nBody.\n")
    return path


def problems(tmp_path: Path) -> list[str]:
    return [str(p) for p in load_glossary([tmp_path], DEMOS).problems]


EXERCISE = """exercises:
  - prompt: "Set the learning rate to 0.15 and run: what happens?"
    preset: {preset}
    answer: "It zig-zags outward and diverges within a few dozen steps."
"""


def test_a_valid_preset_passes(tmp_path: Path) -> None:
    term_with(write_category(tmp_path), EXERCISE.format(preset="{lr: 0.15, optimizer: sgd}"))
    assert problems(tmp_path) == []


def test_a_preset_out_of_bounds_or_unknown_is_a_problem_naming_the_field(tmp_path: Path) -> None:
    path = term_with(write_category(tmp_path), EXERCISE.format(preset="{lr: 50, speed: 3}"))
    found = problems(tmp_path)
    assert len(found) == 2 and all(p.startswith(f"{path}:6: exercises.0.preset.") for p in found)
    assert any("preset.lr: Input should be less than or equal to 10" in p for p in found)
    assert any("preset.speed: Extra inputs are not permitted" in p for p in found)


def test_exercises_need_a_demo(tmp_path: Path) -> None:
    path = term_with(write_category(tmp_path), EXERCISE.format(preset="{}"), demo=None)
    assert problems(tmp_path) == [f"{path}:5: exercises: need a demo: the presets load into its playground"]


def test_every_term_with_a_playground_has_two_to_four_exercises() -> None:
    # Four where a page teaches a cause and its control (backpropagation: the stall, then the same
    # net with only the init changed); more would crowd the page.
    glossary = load_glossary([ROOT / "content"], DEMOS)
    for term in glossary.terms.values():
        if term.meta.demo:
            assert 2 <= len(term.meta.exercises) <= 4, term.slug
