"""The glossary in a real browser: search as you type, navigation, math, theme, accessibility."""

from __future__ import annotations

import pytest


def test_search_as_you_type_then_navigate_to_the_term(page) -> None:
    page.goto("/")
    page.keyboard.press("/")  # focuses the search box
    assert page.evaluate("document.activeElement.id") == "search-input"
    page.keyboard.type("gradeint", delay=30)
    # Wait for the list that answers the whole query: an earlier answer (say to "grad") may show
    # the same term but be replaced a moment later, taking the keyboard focus with it.
    page.locator('#search-suggestions ul[data-query="gradeint"] a', has_text="Gradient Descent").first.wait_for()
    page.keyboard.press("ArrowDown")
    assert page.evaluate("document.activeElement.textContent").startswith("Gradient Descent")
    page.keyboard.press("Enter")
    page.wait_for_url("**/terms/gradient-descent")
    assert page.locator("h1").inner_text() == "Gradient Descent"


def test_a_slow_answer_to_an_earlier_keystroke_does_not_hold_back_the_newest_query(page) -> None:
    """The request that focusing the box sends is held unanswered, as on a slow network or a busy
    server. Typing must still bring suggestions for what was typed: the newest request replaces
    the one in flight. (htmx's default would queue it behind the held one, and drop the rest.)"""
    held = []
    page.route(lambda url: url.endswith("/search/suggest?q="), lambda route: held.append(route))
    page.goto("/")
    page.keyboard.press("/")
    page.keyboard.type("dpo", delay=30)
    page.locator('#search-suggestions ul[data-query="dpo"] a', has_text="DPO").first.wait_for(timeout=5000)
    assert len(held) == 1
    page.unroute_all(behavior="ignoreErrors")


def test_term_page_renders_mathml_with_the_math_font(page) -> None:
    page.goto("/terms/dpo")
    assert page.locator("math").count() > 5
    family = page.evaluate("getComputedStyle(document.querySelector('math')).fontFamily")
    assert "STIX Two Math" in family
    assert page.evaluate("document.fonts.check('16px \"STIX Two Math\"')")


def test_level_filter_swaps_the_grid_and_marks_the_chosen_chip(page) -> None:
    page.goto("/")
    chips = page.locator(".level-filter a")
    assert chips.all_inner_texts() == ["All 18", "Intermediate 13", "Advanced 5"]  # no empty Beginner

    def current() -> list[str]:
        return chips.evaluate_all("links => links.filter(a => a.getAttribute('aria-current')).map(a => a.textContent)")

    assert current() == ["All 18"]
    chips.filter(has_text="Advanced").click()
    page.locator("#term-grid .filter-note", has_text="level advanced").wait_for()
    assert "level=advanced" in page.url
    titles = page.locator("#term-grid .card-title").all_inner_texts()
    assert sorted(titles) == sorted(
        [
            "QLoRA",
            "Direct Preference Optimization",
            "Reinforcement Learning from Human Feedback",
            "Reward Model",
            "Training Compute",
        ]
    )
    assert current() == ["Advanced 5"]  # the highlight and aria-current moved off "All"
    assert page.evaluate("document.activeElement.textContent") == "Advanced 5"  # focus stays on the chip
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Enter")  # "Intermediate", by keyboard
    page.locator("#term-grid .filter-note", has_text="13 terms at level intermediate").wait_for()
    assert current() == ["Intermediate 13"]
    page.go_back()
    page.locator("#term-grid .filter-note", has_text="level advanced").wait_for()
    assert current() == ["Advanced 5"]


def test_an_empty_level_points_to_the_start_of_the_learning_path(page) -> None:
    page.goto("/?level=beginner")
    assert page.locator("#term-grid .card").count() == 0
    assert page.locator(".level-filter a[aria-current]").count() == 0  # no chip claims this view
    page.locator("#term-grid .filter-note").get_by_role("link", name="Loss Function").click()
    page.wait_for_url("**/terms/loss-function")


def test_dark_mode_toggle_persists(page) -> None:
    page.goto("/")
    before = page.evaluate("document.documentElement.dataset.theme")
    page.locator(".theme-toggle").click()
    after = page.evaluate("document.documentElement.dataset.theme")
    assert {before, after} == {"light", "dark"}
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    page.reload()
    assert page.evaluate("document.documentElement.dataset.theme") == after
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == background


def test_search_results_page(page) -> None:
    page.goto("/search?q=distilation")
    assert page.locator(".results li").first.locator("a").inner_text() == "Distillation"


def test_not_found_suggests_terms(page) -> None:
    response = page.goto("/terms/lorra")
    assert response.status == 404
    page.problems.clear()  # the browser logs the 404 status itself; that one is expected
    assert page.get_by_role("link", name="LoRA").first.is_visible()


def test_keyboard_only_navigation_reaches_content(page) -> None:
    page.goto("/terms/lora")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Skip to content"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


def test_a_skip_link_and_the_table_of_contents_lead_to_the_playground(page) -> None:
    page.goto("/terms/lora")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Skip to the playground"
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")  # the next stop is the playground's first field, not the site's navigation
    assert page.evaluate("document.activeElement.closest('.playground')?.id") == "playground-lora"
    toc = page.get_by_role("navigation", name="On this page")
    assert toc.get_by_role("link").first.get_attribute("href") == "#playground-lora"


@pytest.mark.parametrize("path", ["/", "/terms/gradient-descent", "/terms/dpo", "/search?q=lora", "/playground"])
def test_no_serious_or_critical_axe_violations_in_either_theme(axe, path: str) -> None:
    assert axe(path) == {"light": [], "dark": []}


def test_memory_calculator_updates_as_you_type(page) -> None:
    page.goto("/terms/qlora")
    calculator = page.locator(".memory-calculator")
    calculator.wait_for()  # loaded by htmx after the page
    assert "3.8 GB" in calculator.locator(".memory-total").inner_text()
    calculator.get_by_role("button", name="70B model").click()
    page.locator(".memory-total", has_text="70B").wait_for()
    rank = page.locator('.memory-form input[name="rank"]')
    rank.fill("64")
    page.locator(".memory-total", has_text="335,544,320").wait_for()
    rank.fill("0")
    page.locator(".form-errors").wait_for()
    assert "rank" in page.locator(".form-errors").inner_text()
    page.problems.clear()  # the 422 is logged by the browser as a failed request: expected here


def test_wide_tables_and_formulas_scroll_inside_their_card_on_a_phone(new_context) -> None:
    page = new_context(viewport={"width": 390, "height": 844}).new_page()
    page.goto("/terms/qlora")
    page.locator(".memory-table").wait_for()
    for selector in (".memory-calculator .scroll-x", ".math-display"):
        box = page.locator(selector).first
        assert box.evaluate("e => getComputedStyle(e).overflowX") == "auto", selector
        assert "gradient" in box.evaluate("e => getComputedStyle(e).backgroundImage"), f"{selector}: scroll cue"
    table = page.locator(".memory-calculator .scroll-x")
    assert table.evaluate("e => e.scrollWidth > e.clientWidth"), "the table is wider than a phone"
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, "nothing widens the page itself"
