"""Embedded playgrounds: framed from another origin when the host allows it, refused otherwise."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from tests.browser.chromium import Chromium
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.browser.test_playground import wait_status


def write_course(folder: str, *frames: str, height: int = 760, fit: bool = False) -> None:
    """The course page: one <iframe> per src, id f1, f2, ...; `fit` sizes each frame by the
    height messages its embed sends, as the README tells a host page to."""
    tag = '<iframe id="f{}" src="{}" width="900" height="{}"></iframe>'
    tags = "".join(tag.format(i, src, height) for i, src in enumerate(frames, 1))
    listener = (
        "<script>addEventListener('message', (e) => { for (const f of document.querySelectorAll('iframe'))"
        " if (f.contentWindow === e.source && e.data.type === 'modelterms:height')"
        " f.height = e.data.height; });</script>"
    )
    page = f"<!doctype html><title>Course</title><h1>Week 1</h1>{tags}{listener if fit else ''}"
    (Path(folder) / "course.html").write_text(page)


@pytest.fixture(scope="module")
def storing_browser(chromium):
    """Chromium as browsers ship it, with storage (partitioned) in third-party frames; the
    Chromium here blocks it unless told not to, as a reader's browser may (see the next tests)."""
    args = [*CHROMIUM_ARGS, "--disable-features=TrackingProtection3pcd"]
    storing = Chromium(chromium.browser_type, CHROMIUM, args)
    yield storing
    storing.close()


@pytest.fixture
def open_course(new_context, host_page):
    """open_course(host, src): the course page framing `src`, loaded from http://<host>:PORT;
    returns (page, console messages about framing)."""
    folder, port = host_page
    context = new_context()

    def open_(host: str, src: str):
        frame = f'<iframe src="{src}" width="900" height="760"></iframe>'
        (Path(folder) / "course.html").write_text(f"<!doctype html><title>Course</title><h1>Week 1</h1>{frame}")
        page = context.new_page()
        refused: list[str] = []
        page.on("console", lambda m: refused.append(m.text) if "frame-ancestors" in m.text else None)
        page.goto(f"http://{host}:{port}/course.html")
        return page, refused

    return open_


def test_embed_works_inside_an_allowed_origin(open_course, base_url) -> None:
    options = "hide=seed,x0,y0&controls=lr,steps,optimizer&autoplay=1"
    page, refused = open_course("localhost", f"{base_url}/embed/gradient-descent?lr=0.05&steps=40&pace=0&{options}")
    frame = page.frame_locator("iframe")
    frame.locator("section.playground").wait_for()
    assert frame.locator(".pg-field[data-name='lr']").is_visible()
    assert frame.locator(".pg-field[data-name='x0']").is_hidden()  # hidden by hide=
    assert frame.locator(".pg-field[data-name='momentum']").is_hidden()  # not in controls=
    # autoplay: the run starts by itself, with the URL's params, and finishes.
    frame.locator(".pg-status").filter(has_text="Done").wait_for(timeout=30_000)
    assert frame.locator(".site-header").count() == 0 and refused == []


def refused_frame(page, refused: list[str], seconds: float = 10):
    """The course page's frame, once Chromium shows that it refused it (its error page, or a
    frame-ancestors report on the console), or after `seconds` whatever it shows."""
    deadline = time.monotonic() + seconds
    while not (page.frames[1].url.startswith("chrome-error://") or refused) and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    return page.frames[1]


def test_embed_is_refused_from_another_origin(open_course, base_url) -> None:
    page, refused = open_course("127.0.0.1", f"{base_url}/embed/gradient-descent")  # not an allowed origin
    frame = refused_frame(page, refused)
    assert frame.url.startswith("chrome-error://") or refused, frame.url
    assert frame.locator("section.playground").count() == 0


def test_ordinary_pages_are_never_framed(open_course, base_url) -> None:
    page, refused = open_course("localhost", f"{base_url}/terms/gradient-descent")  # allowed for embeds only
    frame = refused_frame(page, refused)
    assert frame.url.startswith("chrome-error://") or refused, frame.url
    assert frame.locator("main").count() == 0


def test_term_page_offers_an_embed_snippet(page) -> None:
    page.goto("/terms/gradient-descent")
    page.locator("[data-action='embed']").click()
    code = page.locator(".pg-embed-code")
    assert code.is_visible()
    snippet = code.input_value()
    assert snippet.startswith('<iframe src="http://127.0.0.1:') and "/embed/gradient-descent?" in snippet
    assert 'allow="clipboard-write"' in snippet  # so the frame's "Copy share link" can copy
    assert "lr=0.08" in snippet and 'height="' in snippet and "demo=" not in snippet
    page.locator("[data-action='copy-embed']").click()
    assert page.locator("[data-action='embed']").get_attribute("aria-expanded") == "true"


GD_EMBED = "/embed/gradient-descent"


def frame_runs(page) -> dict[str, str]:
    """The run each frame keeps in (partitioned) session storage, by its place on the page."""
    return page.frames[1].evaluate(
        "Object.fromEntries(Object.entries(sessionStorage)"
        ".map(([k, v]) => [k.match(/frame (\\d+)/)[1], JSON.parse(v).id]))"
    )


def form_values(frame, *names: str) -> list[str]:
    return [frame.locator(f'input.pg-value[name="{name}"]').input_value() for name in names]


def test_two_frames_of_one_demo_keep_their_own_runs_and_settings(
    storing_browser, new_context, host_page, base_url
) -> None:
    folder, port = host_page
    first = f"{base_url}{GD_EMBED}?lr=0.08&steps=150&pace=20"
    second = f"{base_url}{GD_EMBED}?lr=0.15&steps=80&controls=lr,steps&autoplay=1&pace=3"  # "now watch it diverge"
    write_course(folder, first, second)
    context = new_context(on=storing_browser)
    page = context.new_page()
    started: list[str] = []
    page.on("request", lambda r: started.append(r.url) if r.method == "POST" else None)
    page.goto(f"http://localhost:{port}/course.html")
    one, two = page.frame_locator("#f1"), page.frame_locator("#f2")
    wait_status(two, "Running")  # autoplay
    one.locator('[data-action="run"]').click()
    wait_status(one, "Running")
    kept = frame_runs(page)
    assert set(kept) == {"0", "1"} and kept["0"] != kept["1"]
    page.reload()  # mid-run: each frame finds its own run again, with its own settings
    wait_status(one, "Running|Done")
    wait_status(two, "Running|Diverged")
    assert form_values(one, "lr", "steps") == ["0.08", "150"]
    assert form_values(two, "lr", "steps") == ["0.15", "80"]
    assert frame_runs(page) == kept
    one.locator('[data-action="pause"]').click()  # each frame still holds its own run's token
    wait_status(one, "Paused")
    one.locator('[data-action="pause"]').click()
    wait_status(one, "Done", 30_000)
    wait_status(two, "Diverged", 30_000)
    page.reload()  # after the end: each shows its own finished run; autoplay starts nothing
    assert wait_status(one, "Done") == "Done · 150 steps"  # no duration made up from the replay
    wait_status(two, "Diverged")
    assert form_values(one, "lr", "steps") == ["0.08", "150"] and form_values(two, "lr", "steps") == ["0.15", "80"]
    assert frame_runs(page) == kept
    assert len(started) == 2, started


def test_a_frame_that_cannot_keep_its_run_stops_it_when_reloaded(open_course, base_url) -> None:
    """Where the browser refuses a framed page its storage, nothing can reattach after a
    reload: the run is cancelled, not left to train on unseen against the reader's limit."""
    src = f"{base_url}{GD_EMBED}?lr=0.05&steps=200&pace=5&autoplay=1"
    with httpx.Client() as client:
        page, _ = open_course("localhost", "about:blank")
        with page.expect_response(lambda r: r.request.method == "POST") as answer:
            page.frames[1].goto(src)
        first = answer.value.json()["id"]
        frame = page.frames[1]
        wait_status(frame, "Running")
        with page.expect_response(lambda r: r.request.method == "POST") as again:
            frame.goto(src)  # the frame reloads: autoplay starts a fresh run of its own settings
        assert again.value.json()["id"] != first
        deadline = 10.0
        while client.get(f"{base_url}/api/runs/{first}").json()["status"] != "cancelled":
            assert deadline > 0, "the first run was left training"
            page.wait_for_timeout(250)
            deadline -= 0.25
        wait_status(page.frames[1], "Running")
        assert form_values(page.frames[1], "lr", "steps") == ["0.05", "200"]
        page.frames[1].locator('[data-action="stop"]').click()


def test_permalink_inside_a_frame_opens_outside_it(open_course, base_url) -> None:
    page, _ = open_course("localhost", f"{base_url}{GD_EMBED}?steps=20&pace=0&autoplay=1")
    frame = page.frame_locator("iframe")
    wait_status(frame, "Done")
    link = frame.locator(".pg-permalink")
    with page.context.expect_page() as opened:
        link.click()
    run_id = link.get_attribute("href").rsplit("/", 1)[1]
    opened.value.wait_for_load_state()
    assert opened.value.url == f"{base_url}/runs/{run_id}"
    assert page.frames[1].url.startswith(f"{base_url}{GD_EMBED}?")  # the frame stays as it was
    assert frame.locator("section.playground").is_visible()
    opened.value.close()
    # A stored run's embed: its link to the run opens outside the frame too.
    page, _ = open_course("localhost", f"{base_url}/embed/runs/{run_id}")
    frame = page.frame_locator("iframe")
    wait_status(frame, "Done")
    with page.context.expect_page() as opened:
        frame.locator(f'.embed-credit a[href="/runs/{run_id}"]').click()
    opened.value.wait_for_load_state()
    assert opened.value.url == f"{base_url}/runs/{run_id}"
    assert page.frames[1].url == f"{base_url}/embed/runs/{run_id}"
    assert frame.locator("section.playground").is_visible()


def test_share_link_in_a_frame_leads_to_the_glossary_page_shown_where_no_clipboard(open_course, base_url) -> None:
    page, _ = open_course("localhost", f"{base_url}{GD_EMBED}?lr=0.15&steps=80")  # no allow="clipboard-write"
    frame = page.frame_locator("iframe")
    frame.locator('[data-action="share"]').click()
    wait_status(frame, "selected below")
    link = frame.locator(".pg-share-link")
    assert link.is_visible()
    url = link.input_value()
    assert url.startswith(f"{base_url}/terms/gradient-descent?demo=gradient-descent&")
    assert "lr=0.15" in url and "steps=80" in url and url.endswith("#playground-gradient-descent")
    assert page.frames[1].evaluate("document.activeElement.className") == "pg-share-link"


def test_height_messages_fit_the_frame_to_its_content(host_page, base_url, new_context) -> None:
    folder, port = host_page
    write_course(folder, f"{base_url}{GD_EMBED}?steps=20", height=1800, fit=True)
    page = new_context().new_page()
    page.goto(f"http://localhost:{port}/course.html")
    page.wait_for_function("document.querySelector('iframe').height !== '1800'")
    measure = "Math.ceil(document.querySelector('.embed-main').getBoundingClientRect().height)"
    deadline = time.monotonic() + 10  # the content may still settle (fonts, charts): a message follows each change
    while True:
        height, content = int(page.locator("iframe").get_attribute("height")), page.frames[1].evaluate(measure)
        if height == content or time.monotonic() > deadline:
            break
        page.wait_for_timeout(100)
    assert height == content < 1800  # it shrank to the content, not to the frame's old height
    assert page.frames[1].evaluate("document.documentElement.scrollHeight") <= height + 1  # and nothing is cut off


def test_restore_defaults_in_an_embed_restores_the_embeds_own_values(open_course, base_url) -> None:
    page, _ = open_course("localhost", f"{base_url}{GD_EMBED}?lr=0.15&steps=80")
    frame = page.frame_locator("iframe")
    frame.locator('input.pg-value[name="lr"]').fill("0.3")
    frame.locator('input.pg-value[name="steps"]').fill("40")
    frame.locator('select[name="optimizer"]').select_option("adam")
    frame.locator('[data-action="defaults"]').click()
    assert form_values(frame, "lr", "steps") == ["0.15", "80"]
    assert frame.locator('select[name="optimizer"]').input_value() == "sgd"  # the site's, where the embed sets none
