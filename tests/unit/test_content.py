"""The loader: real content loads clean; each kind of broken content gives its own message."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.demos import load_demos
from app.glossary.content import load_glossary
from app.playground.http.panel import controls
from app.settings import ROOT
from tests.support.content import write_category, write_term

EXPECTED_TERMS = {
    "backpropagation": ("Backpropagation", "intermediate"),
    "dpo": ("Direct Preference Optimization", "advanced"),
    "distillation": ("Distillation", "intermediate"),
    "fine-tuning": ("Fine-tuning", "intermediate"),
    "gradient-descent": ("Gradient Descent", "intermediate"),
    "instruction-tuning": ("Instruction Tuning", "intermediate"),
    "learning-rate": ("Learning Rate", "intermediate"),
    "lora": ("LoRA", "intermediate"),
    "loss-function": ("Loss Function", "intermediate"),
    "preference-data": ("Preference Data", "intermediate"),
    "pretraining": ("Pretraining", "intermediate"),
    "qlora": ("QLoRA", "advanced"),
    "rlhf": ("Reinforcement Learning from Human Feedback", "advanced"),
    "reward-model": ("Reward Model", "advanced"),
    "scaling-laws": ("Scaling Laws", "intermediate"),
    "sft": ("Supervised Fine-Tuning", "intermediate"),
    "synthetic-data": ("Synthetic Data", "intermediate"),
    "training-compute": ("Training Compute", "advanced"),
}


@pytest.fixture(scope="module")
def glossary():
    return load_glossary([ROOT / "content"], load_demos())


def test_real_content_has_no_problems(glossary) -> None:
    assert [str(p) for p in glossary.problems] == []


def test_all_eighteen_terms_with_their_titles_and_levels(glossary) -> None:
    found = {slug: (t.meta.title, t.meta.level) for slug, t in glossary.terms.items()}
    assert found == EXPECTED_TERMS


@pytest.mark.parametrize("slug", sorted(EXPECTED_TERMS))
def test_each_page_is_substantial_and_referenced(glossary, slug: str) -> None:
    term = glossary.terms[slug]
    # Long enough to teach, short enough to read in one sitting, playground section included.
    assert 400 <= len(term.source.split()) <= 1800, "roughly 400-1800 words of prose"
    assert term.meta.references, "cites its primary sources"
    headings = [text for _anchor, text in term.body.headings]
    for section in ("Intuition", "A worked example", "Pitfalls and misconceptions"):
        assert section in headings


FORMULA_TERMS = [s for s in EXPECTED_TERMS if s not in ("synthetic-data",)]


@pytest.mark.parametrize("slug", sorted(EXPECTED_TERMS))
def test_formulas_render_to_mathml_without_stray_backslashes(glossary, slug: str) -> None:
    html = glossary.terms[slug].body.html
    assert "<math" in html
    for math in re.findall(r"<math.*?</math>", html, re.S):
        assert "\\" not in math


def test_required_aliases_resolve(glossary) -> None:
    for alias, slug in {
        "direct-preference-optimization": "dpo",
        "supervised-fine-tuning": "sft",
        "reinforcement-learning-from-human-feedback": "rlhf",
        "backprop": "backpropagation",
        "knowledge-distillation": "distillation",
    }.items():
        assert glossary.aliases[alias] == slug


def test_backlinks_are_computed_from_links(glossary) -> None:
    dpo = glossary.terms["dpo"]
    linking = {slug for slug, t in glossary.terms.items() if any(s == "dpo" for s, _ in t.body.term_links)}
    assert set(dpo.backlinks) == linking - {"dpo"}
    assert linking


def problems_for(tmp_path: Path, demos=()) -> list[str]:
    return [str(p) for p in load_glossary([tmp_path], demos).problems]


def test_missing_front_matter(tmp_path: Path) -> None:
    folder = write_category(tmp_path)
    (folder / "plain.md").write_text("No front matter here.\n")
    assert problems_for(tmp_path) == [
        f"{folder / 'plain.md'}:1: missing YAML front matter (the file must start with a line '---')"
    ]


def test_invalid_yaml_names_the_line(tmp_path: Path) -> None:
    folder = write_category(tmp_path)
    (folder / "bad.md").write_text("---\ntitle: Bad\nlevel: [unclosed\n---\nBody\n")
    [problem] = problems_for(tmp_path)
    assert problem.startswith(f"{folder / 'bad.md'}:") and "invalid YAML" in problem


def test_unknown_level_and_missing_summary(tmp_path: Path) -> None:
    folder = write_category(tmp_path)
    path = folder / "x.md"
    path.write_text("---\ntitle: X\nlevel: expert\n---\nBody\n")
    problems = problems_for(tmp_path)
    assert f"{path}:3: level: Input should be 'beginner', 'intermediate' or 'advanced'" in problems
    assert any(p.startswith(f"{path}:1: summary: Field required") for p in problems)


def test_unknown_field_is_rejected(tmp_path: Path) -> None:
    folder = write_category(tmp_path)
    path = write_term(folder, "x", colour="blue")
    assert any(
        p.startswith(f"{path}:") and "colour: Extra inputs are not permitted" in p for p in problems_for(tmp_path)
    )


def test_broken_link_and_unknown_related_give_file_and_line(tmp_path: Path) -> None:
    folder = write_category(tmp_path)
    path = write_term(folder, "x", body="Intro.\n\nSee [nothing](/terms/nothing-here).\n", related=["ghost"])
    problems = problems_for(tmp_path)
    assert f"{path}:1: related: unknown term 'ghost'" in problems
    body_line = path.read_text().splitlines().index("See [nothing](/terms/nothing-here).") + 1
    assert f"{path}:{body_line}: link to unknown term '/terms/nothing-here'" in problems


def test_links_to_aliases_count_as_resolved(tmp_path: Path) -> None:
    folder = write_category(tmp_path)
    write_term(folder, "dpo", aliases=["Direct Preference Optimization"])
    write_term(folder, "x", body="See [it](/terms/direct-preference-optimization).\n")
    assert problems_for(tmp_path) == []


def test_unknown_macro_in_a_formula(tmp_path: Path) -> None:
    folder = write_category(tmp_path)
    path = write_term(folder, "x", body="Intro.\n\n$$\n\\frobnicate{x}\n$$\n")
    [problem] = problems_for(tmp_path)
    assert problem.startswith(f"{path}:") and "unknown LaTeX macro \\frobnicate" in problem


def test_alignment_environment_is_reported(tmp_path: Path) -> None:
    folder = write_category(tmp_path)
    write_term(folder, "x", body="$$\n\\begin{aligned} a &= b \\end{aligned}\n$$\n")
    [problem] = problems_for(tmp_path)
    assert "alignment" in problem


def test_unknown_demo(tmp_path: Path) -> None:
    folder = write_category(tmp_path)
    path = write_term(folder, "x", demo="no-such-demo")
    assert f"{path}:5: demo: unknown demo 'no-such-demo'" in problems_for(tmp_path)


def test_duplicate_alias_between_terms(tmp_path: Path) -> None:
    folder = write_category(tmp_path)
    write_term(folder, "aaa", aliases=["Shared"])
    path = write_term(folder, "bbb", aliases=["Shared"])
    assert problems_for(tmp_path) == [
        f"{path}:5: alias 'Shared' already names term 'aaa' ({folder / 'aaa.md'}): give this term another alias, "
        "or name this file aaa.md to replace that term"
    ]


def test_a_new_terms_title_that_a_built_in_term_has_as_alias_names_the_new_file(tmp_path: Path) -> None:
    """The README's first example once did this: a warmup.md titled Warm-up, an alias of learning-rate."""
    mine = write_category(tmp_path / "mine")
    path = write_term(mine, "warmup", title="Warm-up")
    problems = [str(p) for p in load_glossary([ROOT / "content", tmp_path / "mine"], load_demos()).problems]
    assert problems == [
        f"{path}:2: title 'Warm-up' already names term 'learning-rate' "
        f"({ROOT / 'content' / 'training' / 'learning-rate.md'}): give this term another title, "
        "or name this file learning-rate.md to replace that term"
    ]


def test_a_file_name_that_is_not_a_slug(tmp_path: Path) -> None:
    folder = write_category(tmp_path)
    (folder / "Bad Name.md").write_text("---\ntitle: B\n---\n")
    assert any("is not a slug" in p for p in problems_for(tmp_path))


def test_terms_follow_their_learning_order_then_their_titles(tmp_path: Path) -> None:
    folder = write_category(tmp_path)
    for slug, order in (("apples", None), ("zebras", 1), ("mangos", 2), ("bananas", None)):
        write_term(folder, slug, **({"order": order} if order else {}))
    glossary = load_glossary([tmp_path], [])
    assert [t.slug for t in glossary.categories["training"].terms] == ["zebras", "mangos", "apples", "bananas"]
    assert glossary.place("mangos") == 1 and glossary.place("unknown") == 4


def test_two_terms_at_one_place_on_the_path(tmp_path: Path) -> None:
    folder = write_category(tmp_path)
    write_term(folder, "first", order=3)
    second = write_term(folder, "second", order=3)
    assert problems_for(tmp_path) == [f"{second}:5: order: 3 is also the place of 'first' in 'training'"]


def test_the_real_content_is_in_a_learning_order_that_starts_with_the_basics(glossary) -> None:
    path = [t.slug for t in glossary.categories["training"].terms]
    assert path[:2] == ["loss-function", "gradient-descent"] and path.index("pretraining") < path.index("dpo")
    assert all(t.meta.order for t in glossary.terms.values()), "every real term has its place"


def test_category_without_index(tmp_path: Path) -> None:
    (tmp_path / "orphans").mkdir()
    assert problems_for(tmp_path) == [
        f"{tmp_path / 'orphans' / '_category.md'}:1: category 'orphans' has no _category.md"
    ]


def test_a_later_folder_overrides_a_term(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    write_term(write_category(first), "x", title="Original")
    write_term(write_category(second), "x", title="Replacement")
    glossary = load_glossary([first, second], [])
    assert glossary.terms["x"].meta.title == "Replacement"
    assert [t.meta.title for t in glossary.categories["training"].terms] == ["Replacement"]


def test_raw_html_is_escaped(tmp_path: Path) -> None:
    folder = write_category(tmp_path)
    write_term(folder, "x", body="<script>alert(1)</script>\n\n<b>bold</b>\n")
    html = load_glossary([tmp_path], []).terms["x"].body.html
    assert "<script>" not in html and "&lt;script&gt;" in html and "<b>" not in html


def test_code_is_highlighted_and_headings_get_stable_anchors(tmp_path: Path) -> None:
    folder = write_category(tmp_path)
    write_term(folder, "x", body="## The math\n\n```python\nx = 1\n```\n")
    html = load_glossary([tmp_path], []).terms["x"].body.html
    assert '<h2 id="the-math">' in html
    assert '<span class="n">x</span>' in html


def test_an_inline_formula_error_names_its_own_line(tmp_path: Path) -> None:
    folder = write_category(tmp_path)
    path = write_term(folder, "x", body="First paragraph.\n\nSecond, with $\\nosuch{x}$ inline.\n")
    [problem] = problems_for(tmp_path)
    line = path.read_text().splitlines().index("Second, with $\\nosuch{x}$ inline.") + 1
    assert problem.startswith(f"{path}:{line}: unknown LaTeX macro \\nosuch")


def test_every_page_carries_a_playground_as_the_site_says(glossary) -> None:
    """The category page and the README say every page carries a live playground."""
    assert "Every page carries a live playground" in (ROOT / "content" / "training" / "_category.md").read_text()
    assert [t.slug for t in glossary.terms.values() if not t.meta.demo] == []


def test_pages_name_a_checkbox_by_its_label_not_its_key(glossary) -> None:
    """A reader sees "Compare with RLHF" beside the box, never `compare_rlhf`: a page's text and its
    exercises' prompts and answers name each checkbox of its playground as the panel labels it
    (presets are params, and keep the keys)."""
    demos = load_demos()
    found = []
    for term in glossary.terms.values():
        demo = demos[term.meta.demo]
        boxes = [c for c in controls(demo) if c.kind == "checkbox"]
        texts = [term.source, *(f"{e.prompt} {e.answer}" for e in term.meta.exercises)]
        found += [f"{term.slug}: {c.name} ({c.label})" for c in boxes for t in texts if re.search(rf"\b{c.name}\b", t)]
    assert found == []
