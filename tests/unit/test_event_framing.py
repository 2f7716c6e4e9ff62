"""Points are encoded once, in the worker, and only framed where they are relayed: the frames a
relayed event gets must be byte for byte those of the same data encoded where it is framed (what
the stored event stream held before workers encoded their own points)."""

from __future__ import annotations

import math

from app.playground.core.events import Event, EventLog, encode_event

HIDDEN = frozenset({"sample"})
POINTS = [
    {"step": 0, "loss": 2.5, "lr": 0.1, "sample": "Dear diary, é"},
    {"step": 1, "loss": math.nan, "lr": 0.1},  # diverged: JSON has no NaN, so null
    {"step": 2, "loss": math.inf, "x": -1.5e-300},
]


def test_a_relayed_event_is_framed_as_one_encoded_where_it_is_framed() -> None:
    for hidden in (frozenset(), HIDDEN):
        relayed = Event.relayed(9, "metrics", *encode_event("metrics", {"points": POINTS}, hidden))
        assert relayed == Event.create(9, "metrics", {"points": POINTS}, hidden)


def test_the_frames_are_the_sse_text_of_the_compact_json() -> None:
    payload, creator = encode_event("metrics", {"points": POINTS[:2]}, HIDDEN)
    public = '{"points":[{"step":0,"loss":2.5,"lr":0.1},{"step":1,"loss":null,"lr":0.1}]}'
    full = '{"points":[{"step":0,"loss":2.5,"lr":0.1,"sample":"Dear diary, \\u00e9"},{"step":1,"loss":null,"lr":0.1}]}'
    assert (payload, creator) == (public.encode(), full.encode())
    event = EventLog().relay("metrics", payload, creator)
    assert event.sse == f"id: 1\nevent: metrics\ndata: {public}\n\n".encode()
    assert event.creator_sse == f"id: 1\nevent: metrics\ndata: {full}\n\n".encode()


def test_points_with_nothing_hidden_have_one_frame_for_everyone() -> None:
    payload, creator = encode_event("metrics", {"points": POINTS[1:]}, HIDDEN)
    assert creator is None and EventLog().relay("metrics", payload, creator).creator_sse is None
