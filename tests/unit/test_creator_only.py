"""What a run's creator alone reads (Demo.creator_only): the split of one event, checked against
the event written out by hand."""

from __future__ import annotations

from app.demos import load_demos
from app.playground.core.events import Event, for_creator

HIDDEN = frozenset({"prompt", "sample"})


def test_a_start_event_loses_its_hidden_facts_for_everyone_but_the_creator() -> None:
    data = {"params": {"text": None}, "prompt": "Dear ", "n_params": 10}
    public, full = for_creator("start", data, HIDDEN)
    assert public == {"params": {"text": None}, "n_params": 10} and full == data


def test_a_metrics_event_loses_each_points_sample_and_keeps_the_rest() -> None:
    data = {"points": [{"step": 0, "loss": 2.0, "sample": "Dear dia"}, {"step": 1, "loss": 1.5}]}
    public, full = for_creator("metrics", data, HIDDEN)
    assert public == {"points": [{"step": 0, "loss": 2.0}, {"step": 1, "loss": 1.5}]} and full == data


def test_nothing_hidden_means_one_frame_for_all() -> None:
    points = {"points": [{"step": 3, "loss": 1.0}]}
    assert for_creator("metrics", points, HIDDEN) == (points, None)
    assert for_creator("end", {"status": "done", "sample": "x"}, HIDDEN)[1] is None  # only start and metrics
    assert for_creator("start", {"prompt": "Dear "}, frozenset()) == ({"prompt": "Dear "}, None)


def test_an_event_keeps_the_public_frame_for_all_and_the_full_one_apart() -> None:
    event = Event.create(7, "metrics", {"points": [{"step": 6, "sample": "Dear diary"}]}, HIDDEN)
    assert event.sse == b'id: 7\nevent: metrics\ndata: {"points":[{"step":6}]}\n\n'
    assert event.creator_sse == b'id: 7\nevent: metrics\ndata: {"points":[{"step":6,"sample":"Dear diary"}]}\n\n'
    assert event.forgotten().creator_sse is None and event.forgotten().sse == event.sse


def test_only_a_run_that_withheld_its_text_hides_anything() -> None:
    demos = load_demos()
    for name in ("pretraining", "fine-tuning"):
        demo = demos[name]
        params = demo.parse({"text": "Dear diary, " * 50}).model_dump(mode="json")
        assert demo.hidden_outputs(demo.private_split(params)[1]) >= {"prompt", "sample"}
        kept = demo.parse({"text": "Dear diary, " * 50, "keep_text": True}).model_dump(mode="json")
        assert demo.hidden_outputs(demo.private_split(kept)[1]) == frozenset()
        ours = demo.parse({}).model_dump(mode="json")
        assert demo.hidden_outputs(demo.private_split(ours)[1]) == frozenset()
    assert demos["pretraining"].creator_only == {"prompt", "vocabulary", "sample"}
