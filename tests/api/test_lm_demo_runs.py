"""The language-model playgrounds through the HTTP API and the real engine."""

from __future__ import annotations

import math

import pytest

from tests.api.test_demo_runs import run_to_end


def test_pretraining_through_the_api(client) -> None:
    facts, points, summary = run_to_end(client, "pretraining", steps=12, batch_size=4, d_model=32, n_layer=1)
    assert facts["uniform_loss"] == pytest.approx(math.log(facts["vocab_size"]))
    assert facts["n_params"] > 0 and facts["train_chars"] > 5 * facts["val_chars"] > 0
    assert [p["step"] for p in points] == list(range(12))
    assert points[0]["loss"] == pytest.approx(facts["uniform_loss"], abs=0.05)
    assert [p["sample"][:4] for p in points if "sample" in p] == ["The ", "The "]  # steps 3 and 11
    assert summary["tokens"] == 12 * 4 * 64


def test_sft_through_the_api(client) -> None:
    facts, points, summary = run_to_end(client, "sft", steps=10, batch_size=2)
    assert 0.3 < facts["masked_fraction"] < 0.6
    assert {p["series"] for p in points} == {"all_tokens", "response_only"} and len(points) == 20
    assert any("completion" in p for p in points)
    assert summary["final"]["response_only"]["loss"] == summary["final"]["response_only"]["response_loss"]


def test_fine_tuning_through_the_api(client) -> None:
    facts, points, summary = run_to_end(client, "fine-tuning", steps=5, new_chars=300)
    assert facts["new_chars"] == 300 and facts["trainable_params"]["pretrained"] == facts["n_params"]
    first = {p["series"]: p for p in points[:2]}
    assert first["pretrained"]["val_loss"] < first["scratch"]["val_loss"]
    assert set(summary["final"]) == {"pretrained", "scratch"}


def test_instruction_tuning_through_the_api(client) -> None:
    facts, points, summary = run_to_end(client, "instruction-tuning", tasks=["first", "last"], steps=5)
    assert facts["tasks"] == ["first", "last"] and facts["held_out_words"] > 20
    assert len(points) == 5
    assert set(summary["accuracy"]) == {"acc_first", "acc_first_new_phrasing", "acc_last", "acc_last_new_phrasing"}
    assert all(0 <= v <= 1 for v in summary["accuracy"].values())


@pytest.mark.parametrize(
    ("demo", "body", "field"),
    [
        ("pretraining", {"d_model": 40}, "d_model"),
        ("pretraining", {"n_layer": 0}, "n_layer"),
        ("pretraining", {"temperature": 3}, "temperature"),
        ("sft", {"lr": 0}, "lr"),
        ("sft", {"batch_size": 33}, "batch_size"),
        ("fine-tuning", {"frozen_layers": -1}, "frozen_layers"),
        ("fine-tuning", {"compare_scratch": "maybe"}, "compare_scratch"),
        ("instruction-tuning", {"tasks": ["upper", "upper"]}, "tasks"),
        ("instruction-tuning", {"phrasings": 9}, "phrasings"),
    ],
)
def test_bad_params_are_422(client, demo: str, body: dict, field: str) -> None:
    response = client.post(f"/api/demos/{demo}/runs", json=body)
    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == field
