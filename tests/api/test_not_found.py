"""A 404 page guesses what the reader meant, and that guess costs little whatever the path."""

from __future__ import annotations

import threading

from app.glossary.routes import NOT_FOUND_WORDS, not_found_query
from tests.api.test_runs import start
from tests.conftest import read_events, running_app


def test_a_mistyped_slug_is_searched_for() -> None:
    assert not_found_query("/terms/gradient-desent") == "gradient desent"
    assert not_found_query("/terms/lora/") == "lora"


def test_a_junk_path_is_searched_for_only_a_few_short_words() -> None:
    junk = "/" + "/".join(["x" * 300] * 5) + "/" + "-".join(f"word{i}" for i in range(200)) + "-" + "y" * 5000
    words = not_found_query(junk).split()
    assert len(words) == NOT_FOUND_WORDS
    assert all(len(word) <= 24 for word in words)
    assert not_found_query("/" + "z" * 10_000) == ""  # one giant word: nothing worth a search


def test_the_not_found_page_is_built_off_the_event_loop(client, monkeypatch) -> None:
    search = client.app.state.site.search
    seen: list[tuple[str, threading.Thread]] = []
    original = search.search

    def recording(query: str, limit: int = 20):
        seen.append((query, threading.current_thread()))
        return original(query, limit)

    monkeypatch.setattr(search, "search", recording)
    loop_thread = client.portal.call(threading.current_thread)  # the thread that runs the app's event loop
    response = client.get("/terms/" + "-".join(["gradiant"] * 400))
    assert response.status_code == 404
    assert "Gradient Descent" in response.text  # the guess still works
    assert [query for query, _ in seen] == ["gradiant gradiant gradiant"]
    assert all(thread is not loop_thread for _, thread in seen)


def test_only_terms_found_by_a_name_are_suggested(client) -> None:
    """'nope' is one edit from 'nopt' (N_opt in a formula on the scaling-laws page): a path names a
    term, so a guess from a page's body is no suggestion."""
    nope = client.get("/terms/nope")
    assert nope.status_code == 404 and "Perhaps you meant" not in nope.text and "Scaling Laws" not in nope.text
    assert "Gradient Descent" in client.get("/terms/gradient-desent").text
    assert "LoRA" in client.get("/terms/lora-adapter").text


def test_a_run_whose_demo_the_server_no_longer_has_is_a_404_on_its_page_and_embed(tmp_path) -> None:
    """A run of a demo that a restart dropped (a test demo here): its page and its embed are the
    site's 404 page, not a failure."""
    with running_app(tmp_path) as client:
        run = start(client, steps=3)
        read_events(client, run["id"])
    with running_app(tmp_path, extra_demo_modules=[]) as client:
        for path in (f"/runs/{run['id']}", f"/embed/runs/{run['id']}"):
            response = client.get(path)
            assert response.status_code == 404 and "<!doctype html>" in response.text, path
