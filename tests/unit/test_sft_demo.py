"""The SFT playground, run in-process: packed conversations, the masked A/B, and the reply checks."""

from __future__ import annotations

import pytest
import torch

from app.demos import load_demos
from app.demos.base import run_inline
from app.ml import texts

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def short_run() -> tuple:
    demo = load_demos()["sft"]
    return run_inline(demo, demo.Params(pace=0, steps=12, batch_size=2))


def test_what_the_masked_series_leaves_out(short_run: tuple) -> None:
    _, _, control = short_run
    # Counted independently: a conversation of n characters has n - 1 targets (its first
    # character is never predicted), of which the response's (space, text, newline) are kept.
    chats = [texts.chat(p, r) for p, r in texts.CHATS_TRAIN]
    targets = sum(len(a + b) - 1 for a, b in chats)
    responses = sum(len(b) for _, b in chats)
    assert control.facts["masked_fraction"] == pytest.approx(1 - responses / targets)
    held_out = [texts.chat(p, r) for p, r in texts.CHATS_VAL]
    assert control.facts["held_out_characters"] == {
        "response": sum(len(b) for _, b in held_out),
        "prompt": sum(len(a) - 1 for a, _ in held_out),
    }


def test_two_series_on_the_same_batches(short_run: tuple) -> None:
    points, summary, _ = short_run
    assert [(p["step"], p["series"]) for p in points] == [
        (s, n) for s in range(12) for n in ("all_tokens", "response_only")
    ]
    first, second = points[0], points[1]
    # Same base, same batch: every measurement agrees at step 0; only the objectives differ.
    for key in ("response_loss", "prompt_loss", "val_response_loss", "val_prompt_loss", "ends_turn", "well_formed"):
        assert first[key] == second[key], key
    assert second["loss"] == second["response_loss"]
    assert (
        min(first["response_loss"], first["prompt_loss"])
        < first["loss"]
        < max(first["response_loss"], first["prompt_loss"])
    )
    # The base writes English prose after "Assistant:" and seldom closes the turn (1 of 16 here).
    assert first["ends_turn"] <= 2 / 16
    # The response-only series never learns the prompts: its held-out prompt loss does not fall.
    late = {p["series"]: p for p in points[-2:]}
    assert late["all_tokens"]["val_prompt_loss"] < late["response_only"]["val_prompt_loss"]
    assert summary["final"].keys() == {"all_tokens", "response_only"}


def test_replies_are_checked_at_the_first_and_last_step(short_run: tuple) -> None:
    points, _, _ = short_run
    completions = [p for p in points if "completion" in p]
    assert [(p["step"], p["series"]) for p in completions] == [
        (s, n) for s in (0, 11) for n in ("all_tokens", "response_only")
    ]
    for p in completions:
        prompt, reply = p["completion"].split("\nAssistant:")
        assert prompt.startswith("User: ") and len(reply) <= 120
    for p in points:
        assert 0 <= p["well_formed"] <= p["ends_turn"] <= 1
