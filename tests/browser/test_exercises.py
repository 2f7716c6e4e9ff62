"""Guided exercises: one click loads a preset into the playground and runs it."""

from __future__ import annotations


def test_preset_loads_and_runs(page) -> None:
    page.goto("/terms/gradient-descent")
    exercises = page.locator(".exercise")
    assert exercises.count() == 3
    second = exercises.nth(1)
    second.get_by_role("button", name="Load into the playground").click()
    panel = page.locator("#playground-gradient-descent")
    # lr 0.11 on the quadratic: the run diverges, as the answer says.
    panel.locator(".pg-status").filter(has_text="Diverged").wait_for(timeout=30_000)
    assert "lr=0.11" in panel.locator(".pg-runs").inner_text()
    assert (
        panel.locator("input[type=number][name=lr], .pg-field[data-name=lr] output")
        .first.evaluate("node => node.value ?? node.textContent")
        .startswith("0.11")
    )
    answer = second.locator("details")
    assert not answer.evaluate("node => node.open")
    answer.locator("summary").click()
    assert "step 68" in answer.inner_text()


def test_loading_a_preset_resets_the_other_fields(page) -> None:
    page.goto("/terms/gradient-descent")
    page.locator(".exercise").nth(2).get_by_role("button", name="Load into the playground").click()
    panel = page.locator("#playground-gradient-descent")
    assert panel.locator("select[name=function]").input_value() == "rosenbrock"
    assert panel.locator("select[name=optimizer]").input_value() == "adam"
    page.locator(".exercise").nth(0).get_by_role("button", name="Load into the playground").click()
    assert panel.locator("select[name=function]").input_value() == "quadratic"  # not left over
    panel.locator(".pg-status").filter(has_text="Done").wait_for(timeout=30_000)
