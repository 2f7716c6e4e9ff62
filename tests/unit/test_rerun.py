"""The 'run again' link writes params as the panel's share link reads them."""

from __future__ import annotations

from app.demos import load_demos
from app.playground.http.rerun import rerun_url, share_value


def test_values_are_written_as_the_share_link_writes_them() -> None:
    assert [share_value(v) for v in (True, False, ["q", "v"], 1e-05, 3, "adam")] == [
        "true",
        "false",
        "q,v",
        "1e-05",
        "3",
        "adam",
    ]


def test_the_link_opens_the_demos_term_page_or_else_the_playground() -> None:
    demo = load_demos()["gradient-descent"]
    assert rerun_url(demo, {"lr": 0.1}, {"gradient-descent"}) == (
        "/terms/gradient-descent?demo=gradient-descent&lr=0.1#playground-gradient-descent"
    )
    assert rerun_url(demo, {}, set()).startswith("/playground?demo=gradient-descent#")


def test_the_link_never_carries_a_readers_text() -> None:
    demo = load_demos()["pretraining"]
    for kept in (False, True):
        url = rerun_url(demo, {"steps": 50, "text": "x" * 600, "keep_text": kept, "text_withheld": {}}, {"pretraining"})
        assert "xxx" not in url and "&text=" not in url and "text_withheld" not in url and "steps=50" in url
