"""A class in one browser: the teacher's board and three students (each a context of their own,
as three laptops), who join with the code and run the class's demo; their curves appear on the
board live, the scatter fills as runs end, and a name with markup is shown as text."""

from __future__ import annotations

import httpx

from tests.browser.test_playground import wait_status

DEMO = "gradient-descent"
NAMES = ("Ada", "<img src=x onerror=alert(1)>", "")  # the last gets a random friendly name


def test_students_runs_appear_on_the_teachers_board(page, new_context, base_url) -> None:
    made = httpx.post(f"{base_url}/api/classes", json={"title": "Period 3", "demo": DEMO}).raise_for_status().json()
    page.goto(made["board_url"])
    assert made["teacher_token"] not in page.url  # the token left the address bar for a cookie
    board = page.locator(".class-board")
    board.wait_for()
    students = []
    for number, (name, lr) in enumerate(zip(NAMES, (0.02, 0.08, 0.3), strict=True)):
        student = new_context(viewport={"width": 900, "height": 800}).new_page()
        student.goto(f"/join?class={made['code']}")
        student.fill("#class-name", name)
        student.click("#class-join button[type=submit]")
        student.wait_for_url(f"**/embed/{DEMO}")
        assert made["teacher_token"] not in student.content()
        student.goto(f"/embed/{DEMO}?steps={60 + 20 * number}&pace=40&lr={lr}")
        panel = student.locator(f"#playground-{DEMO}")
        panel.locator('[data-action="run"]').click()
        students.append(panel)
    curves = board.locator(".class-curves")
    page.wait_for_function("() => document.querySelector('.class-curves').dataset.runs === '3'", timeout=20_000)
    assert curves.locator("canvas").count() >= 1
    for panel, ending in zip(students, ("Done", "Done", "Diverged"), strict=True):
        wait_status(panel, ending)  # lr 0.3 overshoots the quadratic's minimum
    scatter = "document.querySelector('.class-scatter').dataset"
    page.wait_for_function(f"() => {scatter}.dots === '2' && {scatter}.diverged === '1'", timeout=20_000)
    assert board.locator("[data-count=done]").inner_text() == "2"
    assert board.locator("[data-count=diverged]").inner_text() == "1"
    names = board.locator(".class-runs").inner_text()
    assert "Ada" in names and "<img src=x onerror=alert(1)>" in names  # as text, never as markup
    assert board.locator(".class-runs img").count() == 0
    page.screenshot(path="/work/shots/class-board.png", full_page=True)
