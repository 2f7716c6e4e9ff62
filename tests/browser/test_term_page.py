"""A term page's own navigation (issue 31's polish): "On this page" lists every section."""

from __future__ import annotations


def test_on_this_page_lists_the_sections_after_the_text(page) -> None:
    page.goto("/terms/gradient-descent")
    toc = page.get_by_role("navigation", name="On this page")
    links = toc.get_by_role("link")
    names = links.all_inner_texts()
    assert names[0] == "Playground"
    after_text = [name for name in names if name in ("Exercises", "Related terms", "References")]
    assert after_text == ["Exercises", "Related terms", "References"]
    for href in [links.nth(i).get_attribute("href") for i in range(links.count())]:
        assert page.locator(href).count() == 1, href  # every entry leads somewhere on the page
