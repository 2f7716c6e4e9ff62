"""Link previews: a card with a term's title, level and summary on hover and on focus."""

from __future__ import annotations


def prose_link(page, slug: str = "learning-rate"):
    return page.locator(f".prose a[href='/terms/{slug}']").first


def settled_height(page) -> int:
    """The page's height once it stops changing: fonts, the playground panel and its charts are
    laid out after the load event, and a height read at once may still grow by a line."""
    page.evaluate("document.fonts.ready.then(() => true)")
    last, height = -1, page.evaluate("document.documentElement.scrollHeight")
    for _ in range(50):
        if height == last:
            break
        page.wait_for_timeout(200)
        last, height = height, page.evaluate("document.documentElement.scrollHeight")
    return height


def test_preview_on_hover_then_escape(page) -> None:
    page.goto("/terms/gradient-descent")
    before = settled_height(page)
    link = prose_link(page)
    link.hover()
    card = page.locator("#term-preview")
    card.wait_for(state="visible")
    assert card.locator(".term-preview-title").inner_text() == "Learning Rate"
    assert card.locator(".level").count() == 1 and len(card.locator(".term-preview-summary").inner_text()) > 10
    assert link.get_attribute("aria-describedby") == "term-preview"
    assert page.evaluate("document.documentElement.scrollHeight") == before  # floats: nothing moved
    page.keyboard.press("Escape")
    card.wait_for(state="hidden")
    assert link.get_attribute("aria-describedby") is None


def test_preview_on_focus_is_loaded_once(page) -> None:
    page.goto("/terms/gradient-descent")
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url) if r.url.endswith("/preview") else None)
    link = prose_link(page)
    for _ in range(2):
        link.focus()
        page.locator("#term-preview").wait_for(state="visible")
        page.locator("#search-input").focus()  # focus leaves the link: the card goes
        page.locator("#term-preview").wait_for(state="hidden")
    assert len(requests) == 1  # the second showing reuses the fragment


def test_preview_fragment_and_alias(page) -> None:
    response = page.request.get("/terms/lr/preview")
    assert response.status == 200 and "term-preview-card" in response.text()
    assert page.request.get("/terms/no-such-term/preview").status == 404


def test_no_preview_on_touch_screens(new_context) -> None:
    page = new_context(has_touch=True, is_mobile=True, viewport={"width": 390, "height": 800}).new_page()
    page.goto("/terms/gradient-descent")
    prose_link(page).tap()
    page.wait_for_load_state()
    assert page.locator("#term-preview").count() == 0
