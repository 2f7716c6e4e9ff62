"""A class in one browser: the teacher's board and three students (each a context of their own,
as three laptops), who join with the code and run the class's demo; their curves appear on the
board live, the scatter fills as runs end (a diverged one marked), a name with markup is shown as
text, and what the teacher pushes (an exercise, a pinned reference run) reaches every panel."""

from __future__ import annotations

import httpx

from tests.browser.test_playground import wait_status
from tests.browser.test_reference_overlay import reference_drawn

DEMO = "gradient-descent"
NAMES = ("Ada", "<img src=x onerror=alert(1)>", "")  # the last gets a random friendly name


def test_students_runs_appear_on_the_teachers_board_and_the_teacher_steers(page, new_context, base_url) -> None:
    made = httpx.post(f"{base_url}/api/classes", json={"title": "Period 3", "demo": DEMO}).raise_for_status().json()
    page.goto(made["board_url"])
    assert made["teacher_token"] not in page.url  # the token left the address bar for a cookie
    board = page.locator(".class-board")
    board.wait_for()
    students = []
    for number, (name, lr) in enumerate(zip(NAMES, (0.02, 0.08, 0.3), strict=True)):
        student = new_context(viewport={"width": 900, "height": 900}).new_page()
        student.goto(f"/join?class={made['code']}")
        student.fill("#class-name", name)
        student.click("#class-join button[type=submit]")
        student.wait_for_url(f"**/classes/{made['code']}/play")
        assert made["teacher_token"] not in student.content()
        student.goto(f"/classes/{made['code']}/play?steps={60 + 20 * number}&pace=40&lr={lr}")
        panel = student.locator(f"#playground-{DEMO}")
        panel.locator('[data-action="run"]').click()
        students.append(student)
    curves = board.locator(".class-curves")
    page.wait_for_function("() => document.querySelector('.class-curves').dataset.runs === '3'", timeout=20_000)
    assert curves.locator("canvas").count() >= 1
    for student, ending in zip(students, ("Done", "Done", "Diverged"), strict=True):
        wait_status(student.locator(f"#playground-{DEMO}"), ending)  # lr 0.3 overshoots the quadratic's minimum
    scatter = "document.querySelector('.class-scatter').dataset"
    page.wait_for_function(f"() => {scatter}.dots === '2' && {scatter}.diverged === '1'", timeout=20_000)
    assert board.locator("[data-count=done]").inner_text() == "2"
    assert board.locator("[data-count=diverged]").inner_text() == "1"
    names = board.locator(".class-runs").inner_text()
    assert "Ada" in names and "<img src=x onerror=alert(1)>" in names  # as text, never as markup
    assert board.locator(".class-runs img").count() == 0
    page.screenshot(path="/work/shots/class-board.png", full_page=True)

    page.fill("#steer-question", "Try lr 0.11: at which step does it diverge?")
    page.fill("#steer-params", "lr=0.11&steps=40")
    page.fill("#steer-answer", "Revealed only now")
    page.click(".class-steer button[type=submit]")
    board.locator(".class-steer-status", has_text="Pushed").wait_for()
    ada = board.locator(".class-run", has_text="Ada")
    reference = ada.get_attribute("data-run-id")
    ada.locator("[data-action=pin]").click()
    board.locator(".class-steer-status", has_text="Pinned").wait_for()
    for student in students:
        box = student.locator(".class-preset")
        box.locator(".class-preset-question", has_text="at which step does it diverge?").wait_for(timeout=10_000)
        assert "lr 0.11" in box.inner_text() and "Revealed only now" not in box.inner_text()  # the answer waits
        reference_drawn(student.locator(f"#playground-{DEMO}"), reference)
    page.click("[data-action=reveal]")
    students[2].locator(".class-preset-answer", has_text="Revealed only now").wait_for(timeout=10_000)
    students[2].screenshot(path="/work/shots/class-student.png", full_page=True)


def test_the_join_page_and_the_board_have_no_serious_axe_violations(axe, base_url) -> None:
    made = httpx.post(f"{base_url}/api/classes", json={"demo": DEMO}).raise_for_status().json()
    board = made["board_url"].removeprefix(base_url)  # the link sets the teacher's cookie, then the board
    for path in (f"/join?class={made['code']}", f"/terms/gradient-descent?class={made['code']}", board):
        assert axe(path) == {"light": [], "dark": []}, path
