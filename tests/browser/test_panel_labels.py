"""What the panel shows is what it says: a summary's figure that is no chart's last point says what
it is, a text's characters the base model lacks are named before the run, a chart a run cannot
fill is not shown, and a table fits the panel."""

from __future__ import annotations

from tests.browser.test_playground import run_playground


def test_gradient_descents_final_point_is_said_to_be_past_the_charts_last(page) -> None:
    panel = run_playground(page, "gradient-descent", "steps=20&pace=0")
    final = panel.locator(".pg-summary .pg-dl-row").filter(has=page.locator("dt", has_text="final"))
    note = final.locator("dd > .pg-note")
    assert "after the last update" in note.inner_text() and "one point earlier" in note.inner_text()
    assert panel.locator(".pg-summary .pg-note").count() == 1  # "escaped" needs none


def test_own_text_warns_before_the_run_of_characters_the_base_model_lacks(page) -> None:
    page.goto("/terms/fine-tuning")
    field = page.locator('#playground-fine-tuning .pg-field[data-name="text"]')
    warning = field.locator(".pg-text-unknown")
    field.locator("textarea").fill("Ahoy! Rain at 5€, then gales!! " + "Fair and good. " * 40)
    assert warning.inner_text() == (
        "2 different characters (4 in all) are not in the base model's vocabulary and will be written as “?”: "
        "“!” ×3, “€” ×1."
    )
    field.locator("textarea").fill("Fair and good, café: “quoted”. " * 20)  # accents and quotes have look-alikes
    assert warning.is_hidden()


def test_loss_functions_charts_are_those_of_the_task_that_ran(page) -> None:
    """A regression run shows no accuracy chart (it logged none), a classification run no fitted line."""
    panel = run_playground(page, "loss-function", "mode=classification&steps=20&pace=0")
    shown = panel.locator("figure.pg-chart:visible figcaption")
    assert [t.split("\n")[0] for t in shown.all_inner_texts()] == [
        "Training loss (each series its own loss)",
        "Accuracy",
    ]


def test_preference_pairs_fit_the_panel_beside_the_controls(page) -> None:
    """At 1280 px the output column of a term page's panel is about 400 px: the latest pairs' six
    columns fit it, none cut off behind a sideways scroll."""
    panel = run_playground(page, "preference-data", "steps=5&pace=0")
    tables = panel.locator(".pg-table-wrap")
    assert tables.count() >= 1
    assert tables.evaluate_all("ws => ws.filter(w => w.scrollWidth > w.clientWidth).length") == 0


def test_a_fact_or_figure_whose_key_is_no_words_shows_the_demos_label(page) -> None:
    panel = run_playground(page, "training-compute", "steps=3&pace=0")
    facts = panel.locator(".pg-facts").inner_text().lower()
    assert "kaplan's estimate of n (12·n_layer·d_model²)" in facts and "12 l d2" not in facts
    summary = panel.locator(".pg-summary").inner_text()
    assert "counted ÷ 6N" in summary and "counted over 6n" not in summary
