"""Training on your own text in a real browser: pasted, loaded from a file, and refused."""

from __future__ import annotations

import pytest

from tests.browser.test_playground import type_value, wait_status

POEM = (
    "Slow rain on the harbour wall, and the boats asleep in rows;\n"
    "a gull complains of the weather, and nobody answers it.\n"
) * 8


STEPS = {"pretraining": 60, "fine-tuning": 12}  # a few samples each, in a few seconds


def give_text(page, panel, source: str, text: str, tmp_path) -> None:
    if source == "pasted":
        panel.locator("textarea[name='text']").fill(text)
    else:
        notes = tmp_path / "notes.txt"
        notes.write_text(text, encoding="utf-8")
        panel.locator("input[type='file']").set_input_files(notes)
        page.wait_for_function(
            "n => document.querySelector(\"textarea[name='text']\").value.length === n", arg=len(text)
        )
    assert panel.locator(".pg-text-count").inner_text() == f"{len(text)} of at most 16,000 characters"


@pytest.mark.parametrize("source", ["pasted", "loaded"])
@pytest.mark.parametrize("demo", ["pretraining", "fine-tuning"])
def test_a_playground_trains_on_your_text_and_writes_samples_from_it(page, tmp_path, demo: str, source: str) -> None:
    page.goto(f"/terms/{demo}")
    panel = page.locator(f"#playground-{demo}")
    text = POEM.replace(";", "!")  # a character the fine-tuning base cannot write
    give_text(page, panel, source, text, tmp_path)
    type_value(panel, "steps", STEPS[demo])
    panel.locator('[data-action="run"]').click()
    wait_status(panel, "Done")
    facts = panel.locator(".pg-facts").inner_text()
    assert "yours (936 characters, not kept" in facts
    if demo == "fine-tuning":
        assert "not in vocabulary" in facts.lower() and "!" in facts
    samples = panel.locator(".pg-feed-item")
    samples.first.wait_for(timeout=30_000)
    assert all("Slow " in s for s in samples.all_inner_texts())  # the prompt is the text's first word


def test_a_file_that_is_not_text_is_refused_on_its_field(page, tmp_path) -> None:
    page.goto("/terms/fine-tuning")
    panel = page.locator("#playground-fine-tuning")
    binary = tmp_path / "photo.txt"
    binary.write_bytes(b"\xff\xd8\xff\xe0 not text \x00\x01")
    panel.locator("input[type='file']").set_input_files(binary)
    error = panel.locator(".pg-field[data-name='text'] .pg-field-error")
    error.filter(has_text="is not UTF-8 text").wait_for()
    assert panel.locator("textarea[name='text']").input_value() == ""


def test_a_text_too_short_is_marked_on_its_field(page) -> None:
    page.goto("/terms/pretraining")
    panel = page.locator("#playground-pretraining")
    panel.locator("textarea[name='text']").fill("A line too short to learn from.")
    assert "(at least 500 needed)" in panel.locator(".pg-text-count").inner_text()
    panel.locator('[data-action="run"]').click()
    error = panel.locator(".pg-field[data-name='text'] .pg-field-error")
    error.filter(has_text="at least 500").wait_for()


def test_the_run_chips_name_your_text_by_its_size(page, tmp_path) -> None:
    page.goto("/terms/pretraining")
    panel = page.locator("#playground-pretraining")
    type_value(panel, "steps", STEPS["pretraining"])
    panel.locator('[data-action="run"]').click()  # the built-in text first
    wait_status(panel, "Done")
    give_text(page, panel, "pasted", POEM, tmp_path)
    panel.locator('[data-action="run"]').click()
    wait_status(panel, "Done")
    chips = panel.locator(".pg-run-label").all_inner_texts()
    assert chips[0] == "#2 steps=60 own text (936 chars)", chips  # the current run, newest first
    assert chips[1] == "#1 built-in text", chips  # what the earlier run differs in
    assert not any("object" in chip for chip in chips)
