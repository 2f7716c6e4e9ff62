"""Training on your own text in a real browser: pasted, loaded from a file, and refused."""

from __future__ import annotations

from tests.browser.test_playground import set_slider, wait_status

POEM = (
    "Slow rain on the harbour wall, and the boats asleep in rows;\n"
    "a gull complains of the weather, and nobody answers it.\n"
) * 8


def samples_of(panel) -> list[str]:
    items = panel.locator(".pg-feed-item")
    items.first.wait_for(timeout=30_000)
    return items.all_inner_texts()


def test_pretraining_on_a_pasted_text_writes_samples_in_its_characters(page) -> None:
    page.goto("/terms/pretraining")
    panel = page.locator("#playground-pretraining")
    panel.locator("textarea[name='text']").fill(POEM)
    assert panel.locator(".pg-text-count").inner_text() == f"{len(POEM)} of at most 16,000 characters"
    set_slider(page, "#pg-pretraining-steps", 60)
    panel.locator('[data-action="run"]').click()
    wait_status(panel, "Done")
    assert "yours (936 characters, not kept" in panel.locator(".pg-facts").inner_text()
    samples = samples_of(panel)
    assert all("Slow " in s for s in samples)  # the prompt is the text's first word


def test_fine_tuning_on_a_loaded_file_and_a_file_that_is_not_text(page, tmp_path) -> None:
    page.goto("/terms/fine-tuning")
    panel = page.locator("#playground-fine-tuning")
    picker = panel.locator("input[type='file']")
    binary = tmp_path / "photo.txt"
    binary.write_bytes(b"\xff\xd8\xff\xe0 not text \x00\x01")
    picker.set_input_files(binary)
    error = panel.locator(".pg-field[data-name='text'] .pg-field-error")
    error.filter(has_text="is not UTF-8 text").wait_for()

    notes = tmp_path / "notes.txt"
    notes.write_text(POEM.replace(";", "!"), encoding="utf-8")
    picker.set_input_files(notes)
    textarea = panel.locator("textarea[name='text']")
    page.wait_for_function("n => document.querySelector(\"textarea[name='text']\").value.length === n", arg=len(POEM))
    assert error.is_hidden() and textarea.input_value().startswith("Slow rain")
    set_slider(page, "#pg-fine-tuning-steps", 12)
    panel.locator('[data-action="run"]').click()
    wait_status(panel, "Done")
    facts = panel.locator(".pg-facts").inner_text()
    assert "yours (936 characters" in facts and "!" in facts  # the character the base cannot write
    assert samples_of(panel)


def test_a_text_too_short_is_marked_on_its_field(page) -> None:
    page.goto("/terms/pretraining")
    panel = page.locator("#playground-pretraining")
    panel.locator("textarea[name='text']").fill("A line too short to learn from.")
    assert "(at least 500 needed)" in panel.locator(".pg-text-count").inner_text()
    panel.locator('[data-action="run"]').click()
    error = panel.locator(".pg-field[data-name='text'] .pg-field-error")
    error.filter(has_text="at least 500").wait_for()
