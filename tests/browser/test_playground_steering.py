"""Steering a run as a newcomer does (issue 14): keyboard only, dragging sliders, reloading the
page mid-run, typing exact values, and fixing bad settings."""

from __future__ import annotations

import re

from tests.browser.test_playground import FINISHED, wait_status

GD = "#playground-gradient-descent"


def open_gd(page, query: str = "") -> object:
    page.goto(f"/terms/gradient-descent{query}")
    return page.locator(GD)


def focused(page) -> str:
    return page.evaluate("document.activeElement.dataset.action || document.activeElement.name || ''")


def test_keyboard_run_keeps_focus_on_run_and_enter_again_never_cancels(page) -> None:
    panel = open_gd(page, "?steps=400&pace=20")
    panel.locator('[data-action="run"]').focus()
    page.keyboard.press("Enter")
    wait_status(panel, "Running")
    assert focused(page) == "run"
    assert panel.locator('[data-action="run"]').get_attribute("aria-disabled") == "true"
    page.keyboard.press("Enter")
    page.keyboard.press("Space")
    page.wait_for_timeout(600)
    wait_status(panel, "Running")  # still training: Run pressed again does nothing
    assert panel.locator('[data-action="clear"]').is_disabled()
    panel.locator('[data-action="pause"]').focus()
    page.keyboard.press("Enter")
    wait_status(panel, "Paused")
    assert panel.locator('[data-action="run"]').inner_text() == "Paused"
    panel.locator('[data-action="stop"]').click()
    wait_status(panel, "Cancelled")
    assert panel.locator(".pg-plot").first.get_attribute("data-empty") is None  # the curve stays


def test_restore_defaults_and_clear_are_separate_and_clear_asks_first(page) -> None:
    panel = open_gd(page, "?steps=20&pace=0&lr=0.02")
    assert panel.locator('input.pg-value[name="lr"]').input_value() == "0.02"
    panel.locator('[data-action="run"]').click()
    wait_status(panel, FINISHED)
    panel.locator('[data-action="defaults"]').click()
    assert panel.locator('input.pg-value[name="lr"]').input_value() == "0.08"
    assert panel.locator(".pg-runs li").count() == 1  # the run is still on the charts
    page.once("dialog", lambda dialog: dialog.dismiss())
    panel.locator('[data-action="clear"]').click()
    assert panel.locator(".pg-runs li").count() == 1
    page.once("dialog", lambda dialog: dialog.accept())
    panel.locator('[data-action="clear"]').click()
    wait_status(panel, "Ready")
    assert panel.locator(".pg-runs li").count() == 0


def test_one_drag_is_one_live_change(page) -> None:
    panel = open_gd(page, "?steps=600&pace=20")
    panel.locator('[data-action="run"]').click()
    panel.locator(".pg-status").filter(has_text=re.compile(r"step \d+/")).wait_for(timeout=20_000)
    panel.locator("#pg-gradient-descent-lr").scroll_into_view_if_needed()
    box = panel.locator("#pg-gradient-descent-lr").bounding_box()
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] * 0.7, y)
    page.mouse.down()
    for i in range(10):  # a slow drag: many `input` events, one `change` on release
        page.mouse.move(box["x"] + box["width"] * (0.7 - 0.03 * i), y)
        page.wait_for_timeout(40)
    page.mouse.up()
    page.wait_for_timeout(600)
    slider = panel.locator("#pg-gradient-descent-pace")
    slider.focus()
    for _ in range(6):  # arrow keys held: one change once the slider is still
        page.keyboard.press("ArrowLeft")
    page.wait_for_timeout(1500)
    chips = panel.locator(".pg-changes li").all_inner_texts()
    assert len(chips) == 2, chips
    assert chips[0].startswith("lr → ") and chips[1].startswith("pace → 14")
    panel.locator('[data-action="stop"]').click()


def test_reload_mid_run_reattaches_and_can_still_steer(page) -> None:
    panel = open_gd(page, "?steps=1500&pace=20&lr=0.05")
    panel.locator('[data-action="run"]').click()
    panel.locator(".pg-status").filter(has_text=re.compile(r"step \d{2,}/")).wait_for(timeout=20_000)
    key = "modelterms:run:/terms/gradient-descent#playground-gradient-descent"
    run_id = page.evaluate("key => JSON.parse(sessionStorage.getItem(key)).id", key)
    page.goto("/terms/gradient-descent")  # a reload without the share link
    panel = page.locator(GD)
    wait_status(panel, r"Running .* step \d+/1500")
    assert panel.locator('input.pg-value[name="lr"]').input_value() == "0.05"  # the run's params, back in the form
    panel.locator('[data-action="pause"]').click()  # the control token survived the reload
    wait_status(panel, "Paused")
    assert page.request.get(f"/api/runs/{run_id}").json()["status"] == "paused"
    panel.locator('[data-action="stop"]').click()
    wait_status(panel, "Cancelled")
    page.reload()
    wait_status(page.locator(GD), "Cancelled")  # a finished run is shown again, not lost
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator(GD).locator('[data-action="clear"]').click()
    page.reload()
    wait_status(page.locator(GD), "Ready")


def test_values_are_typed_exactly_and_sliders_speak_the_real_value(page) -> None:
    panel = open_gd(page)
    lr = panel.locator('input.pg-value[name="lr"]')
    slider = panel.locator("#pg-gradient-descent-lr")
    assert slider.get_attribute("aria-valuetext") == "0.08"
    lr.fill("0.15")
    assert slider.get_attribute("aria-valuetext") == "0.15"
    assert abs(float(slider.input_value()) - (-0.824)) < 0.01  # log10(0.15): the slider follows
    lr.fill("20")
    panel.locator('input.pg-value[name="steps"]').fill("12")
    panel.locator('[data-action="run"]').click()
    assert "Learning rate must be at most 10." in panel.locator(".pg-errors").inner_text()
    assert lr.get_attribute("aria-invalid") == "true"
    lr.fill("0.15")
    panel.locator('input.pg-value[name="pace"]').fill("0")
    panel.locator('input.pg-value[name="pace"]').press("Enter")  # Enter in a field runs
    wait_status(panel, FINISHED)
    rows = panel.locator(".pg-runs li").first.inner_text()
    assert "0.15" in rows


def test_cross_field_errors_are_plain_at_the_top_and_mark_both_fields(page) -> None:
    page.goto("/terms/learning-rate")
    panel = page.locator("section.playground").first
    panel.locator('select[name="mode"]').select_option("range_test")
    panel.locator('input.pg-value[name="lr_min"]').fill("0.5")
    panel.locator('input.pg-value[name="lr_max"]').fill("0.03")
    page.on("console", lambda m: None)
    panel.locator('[data-action="run"]').click()
    errors = panel.locator(".pg-errors li").first
    errors.wait_for()
    text = errors.inner_text()
    assert "must not exceed" in text and "body" not in text and "Value error" not in text
    assert "lr_min" not in text  # named by the fields' titles
    marked = panel.locator(".pg-field.has-error").evaluate_all("nodes => nodes.map(n => n.dataset.name)")
    assert marked == ["lr_min", "lr_max"]
    # The message sits right under the status line, not below the charts.
    status_y = panel.locator(".pg-status").bounding_box()["y"]
    assert errors.bounding_box()["y"] - status_y < 120
    page.problems.clear()  # the 422 answer is logged by the browser as a failed resource


def test_what_does_not_apply_is_disabled_or_hidden(page) -> None:
    from playwright.sync_api import expect

    panel = open_gd(page)
    momentum = panel.locator('input.pg-value[name="momentum"]')
    expect(momentum).to_be_disabled()  # plain SGD has no momentum
    panel.locator('select[name="optimizer"]').select_option("nesterov")
    expect(momentum).to_be_enabled()
    page.goto("/terms/learning-rate")
    panel = page.locator("section.playground").first
    lr_chart = panel.locator("figure.pg-chart").nth(3)
    expect(lr_chart).to_be_hidden()  # loss against lr: columns of dots when each series has one rate
    panel.locator('select[name="mode"]').select_option("range_test")
    expect(lr_chart).to_be_visible()
    expect(panel.locator('select[name="schedule"]')).to_be_disabled()
    expect(panel.locator('input.pg-value[name="series"]')).to_be_disabled()


def test_a_share_link_says_which_values_it_could_not_use(page) -> None:
    panel = open_gd(page, "?steps=-5&x0=999&lr=0.02")
    errors = panel.locator(".pg-errors").inner_text()
    assert "steps=-5 was not used" in errors and "Steps must be at least 1." in errors
    assert "x0=999 was not used" in errors and "Start x must be at most 5." in errors
    assert panel.locator('input.pg-value[name="lr"]').input_value() == "0.02"
    assert panel.locator('input.pg-value[name="steps"]').input_value() == "150"


def posts_to_runs(page) -> list[str]:
    """Every run the page asks the server to start, as it asks."""
    started: list[str] = []
    page.on("request", lambda r: started.append(r.url) if r.method == "POST" and "/runs" in r.url else None)
    return started


def test_enter_in_a_field_during_a_run_starts_no_second_run(page) -> None:
    started = posts_to_runs(page)
    panel = open_gd(page, "?steps=400&pace=10")
    steps = panel.locator('input.pg-value[name="steps"]')
    steps.focus()
    page.keyboard.press("Enter")  # Enter in a field starts the run
    wait_status(panel, "Running")
    assert steps.is_disabled()  # greyed while the run trains
    steps.evaluate("input => input.form.requestSubmit()")  # what Enter there would ask for
    lr = panel.locator('input.pg-value[name="lr"]')
    lr.fill("0.05")
    lr.press("Enter")  # a live field: Enter commits the value to the run, and starts nothing
    panel.locator(".pg-changes li").first.wait_for(timeout=10_000)
    page.wait_for_timeout(500)
    assert len(started) == 1, started
    assert panel.locator(".pg-runs .is-current .pg-run-tag").text_content() == "current"  # the chip keeps its badge
    panel.locator('[data-action="stop"]').click()
    wait_status(panel, "Cancelled")


def test_pause_resume_and_stop_keep_keyboard_focus(page) -> None:
    panel = open_gd(page, "?steps=400&pace=10")
    panel.locator('[data-action="run"]').click()
    panel.locator(".pg-status").filter(has_text=re.compile(r"step \d+/")).wait_for(timeout=20_000)
    panel.locator('[data-action="pause"]').focus()
    page.keyboard.press("Space")
    wait_status(panel, "Paused")
    assert focused(page) == "pause" and panel.locator('[data-action="pause"]').inner_text() == "Resume"
    page.keyboard.press("Space")
    wait_status(panel, "Running")
    assert focused(page) == "pause"
    page.keyboard.press("Tab")  # Step is disabled while running: Tab lands on Stop
    assert focused(page) == "stop"
    page.keyboard.press("Space")
    wait_status(panel, "Cancelled")
    assert focused(page) == "run"  # Stop went off with the run: focus moved on, not to the page
    before = page.evaluate("scrollY")
    page.keyboard.press("Space")  # and Space does not scroll the page: it runs again
    wait_status(panel, "Running")
    assert page.evaluate("scrollY") == before
    panel.locator('[data-action="stop"]').click()


def test_a_second_tab_of_the_page_does_not_take_over_the_first_tabs_run(page) -> None:
    panel = open_gd(page, "?steps=1500&pace=10")
    panel.locator('[data-action="run"]').click()
    wait_status(panel, "Running")
    with page.context.expect_page() as opened:
        page.evaluate("window.open(location.pathname)")  # a tab opened from this one copies its sessionStorage
    other = opened.value
    other.locator(f"{GD}[data-pg-resumed='0']").wait_for()  # it starts clean
    wait_status(other.locator(GD), "Ready")
    other.reload()
    other.locator(f"{GD}[data-pg-resumed='0']").wait_for()
    page.reload()
    wait_status(page.locator(GD), "Running")  # the first tab still finds its own run
    page.locator(GD).locator('[data-action="stop"]').click()
    wait_status(page.locator(GD), "Cancelled")
    other.close()
