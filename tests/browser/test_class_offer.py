"""`?class=CODE` on any page and in the embed: the reader is offered to join without leaving the
page, and the runs they then start there count as the class's (the board's stream lists them
under the reader's name). The link carries only the code, never the teacher's token."""

from __future__ import annotations

import json

import httpx

from tests.browser.test_playground import wait_status

DEMO = "gradient-descent"


def board_names(base_url: str, made: dict, runs: int) -> list[str]:
    """The names of the first `runs` runs the class's board stream announces."""
    names: list[str] = []
    headers = {"Authorization": f"Bearer {made['teacher_token']}"}
    with httpx.stream("GET", f"{base_url}/api/classes/{made['code']}/events", headers=headers, timeout=20) as stream:
        kind = ""
        for line in stream.iter_lines():
            kind = line[7:] if line.startswith("event: ") else kind
            if line.startswith("data: ") and kind == "run":
                names.append(json.loads(line[6:])["name"])
                if len(names) == runs:
                    return names
    return names


def join_here(page, name: str) -> str:
    offer = page.locator(".class-offer")
    offer.locator("#class-offer-name").fill(name)
    offer.locator("button[type=submit]").click()
    offer.locator(".class-offer-joined").wait_for()
    return offer.locator(".class-student-name").inner_text()


def test_a_class_link_on_a_term_page_and_an_embed_joins_there_and_its_runs_count(page, new_context, base_url) -> None:
    made = httpx.post(f"{base_url}/api/classes", json={"demo": DEMO}).raise_for_status().json()
    code = made["code"]

    page.goto(f"/terms/{DEMO}?class={code.lower()}&steps=30&pace=0")
    assert "Join class" in page.locator(".class-offer").inner_text()
    page.screenshot(path="/work/shots/class-offer.png")
    assert join_here(page, "Grace <b>") == "Grace <b>"  # markup stays text
    assert page.locator(".class-offer b").count() == 0
    assert "class=" not in page.url  # a link copied from the address bar offers nobody the class
    panel = page.locator(f"#playground-{DEMO}")
    panel.locator('[data-action="run"]').click()
    wait_status(panel, "Done")
    assert made["teacher_token"] not in page.content()

    embed = new_context().new_page()
    embed.goto(f"/embed/{DEMO}?class={code}&steps=30&pace=0")
    friendly = join_here(embed, "")  # no name: a random friendly one
    assert friendly.strip()
    embed_panel = embed.locator(f"#playground-{DEMO}")
    embed_panel.locator('[data-action="run"]').click()
    wait_status(embed_panel, "Done")
    assert made["teacher_token"] not in embed.content()

    assert board_names(base_url, made, 2) == ["Grace <b>", friendly]

    page.goto(f"/playground?class={code}")  # the same browser again: it says it is in, and offers no second join
    page.locator(".class-offer-joined").wait_for()
    assert page.locator(".class-offer form").count() == 0


def test_a_reader_may_decline_and_a_wrong_code_says_so(new_context) -> None:
    page = new_context().new_page()  # not the `page` fixture: the browser logs the wrong code's 404 as an error
    page.goto("/playground?class=QQQQQQ")
    offer = page.locator(".class-offer")
    offer.locator("button[type=submit]").click()
    offer.locator(".class-join-error", has_text="no class has the code").wait_for()
    offer.locator("[data-action=dismiss]").click()
    assert page.locator(".class-offer").count() == 0
    page.goto("/playground?class=not-a-code")
    page.locator("main").wait_for()
    assert page.locator(".class-offer").count() == 0
