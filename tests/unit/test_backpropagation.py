"""The backpropagation playground: the hand-written 2-2-1 step, the per-layer norms and the
gradient check against autograd, and the page's table against the computed numbers."""

from __future__ import annotations

import math
import re

import pytest
import torch
from pydantic import ValidationError
from torch import nn

from app.demos.backpropagation import DEMO, Params
from app.demos.base import run_inline
from app.ml import backprop, toy_data
from app.settings import ROOT

torch.set_num_threads(1)


def tiny_torch_network() -> nn.Sequential:
    """The TINY network as a torch module, in float64."""
    net = nn.Sequential(nn.Linear(2, 2), nn.Sigmoid(), nn.Linear(2, 1)).double()
    as64 = lambda values: torch.tensor(values, dtype=torch.float64)  # noqa: E731
    with torch.no_grad():
        net[0].weight.copy_(as64(backprop.TINY["W1"]))
        net[0].bias.copy_(as64(backprop.TINY["b1"]))
        net[2].weight.copy_(as64([backprop.TINY["w2"]]))
        net[2].bias.fill_(backprop.TINY["b2"])
    return net


def tiny_loss(net: nn.Module) -> torch.Tensor:
    x = torch.tensor([backprop.TINY["x"]], dtype=torch.float64)
    return 0.5 * (net(x)[0, 0] - backprop.TINY["t"]) ** 2


def test_the_hand_written_step_matches_autograd() -> None:
    step = backprop.tiny_step()
    net = tiny_torch_network()
    loss = tiny_loss(net)
    loss.backward()
    assert step["forward"]["loss"] == pytest.approx(loss.item(), rel=1e-12)
    grads = step["backward"]
    assert grads["dL_dW1"] == [pytest.approx(row, rel=1e-12) for row in net[0].weight.grad.tolist()]
    assert grads["dL_db1"] == pytest.approx(net[0].bias.grad.tolist(), rel=1e-12)
    assert grads["dL_dw2"] == pytest.approx(net[2].weight.grad[0].tolist(), rel=1e-12)
    assert grads["dL_db2"] == pytest.approx(net[2].bias.grad.item(), rel=1e-12)
    torch.optim.SGD(net.parameters(), lr=backprop.TINY["lr"]).step()
    assert step["after_step"]["loss"] == pytest.approx(tiny_loss(net).item(), rel=1e-10)


def test_layer_norms_are_the_hand_written_gradients_norms() -> None:
    grads = backprop.tiny_step()["backward"]
    net = tiny_torch_network()
    tiny_loss(net).backward()
    first = math.sqrt(sum(g * g for row in grads["dL_dW1"] for g in row) + sum(g * g for g in grads["dL_db1"]))
    last = math.sqrt(sum(g * g for g in grads["dL_dw2"]) + grads["dL_db2"] ** 2)
    assert backprop.layer_grad_norms(net) == pytest.approx([first, last], rel=1e-12)


def test_the_gradient_check_passes_autograd_and_catches_a_wrong_backward() -> None:
    x, y = toy_data.moons(16, seed=1)
    model = backprop.make_mlp(3, 8, "tanh", seed=1)
    good = backprop.gradient_check(model, x, y, nn.functional.cross_entropy)
    assert good["max_relative_error"] < 1e-6
    assert good["coordinates_checked"] == 7 * 8 + 2  # 8 per tensor; the output bias has only 2
    assert good["dtype"] == "float64"

    class WrongTanh(torch.autograd.Function):  # forward tanh, backward forgets the factor 1 - tanh²
        @staticmethod
        def forward(ctx, z):  # type: ignore[override]
            return torch.tanh(z)

        @staticmethod
        def backward(ctx, grad):  # type: ignore[override]
            return grad

    class Broken(nn.Module):
        def forward(self, z: torch.Tensor) -> torch.Tensor:
            return WrongTanh.apply(z)

    broken = nn.Sequential(*(Broken() if isinstance(m, nn.Tanh) else m for m in model))
    assert backprop.gradient_check(broken, x, y, nn.functional.cross_entropy)["max_relative_error"] > 0.01


def test_deep_sigmoid_gradients_shrink_towards_the_input() -> None:
    points, _, control = run_inline(DEMO, Params(steps=3, pace=0))
    first = points[0]
    assert len(first["grad_norms"]) == 5 == control.facts["layers"]
    assert [first[f"grad_norm_{i}"] for i in range(1, 6)] == first["grad_norms"]
    assert first["grad_norms"][0] < 1e-3 * first["grad_norms"][-1]
    assert control.facts["gradient_check"]["max_relative_error"] < 1e-6
    assert control.facts["one_step"] == backprop.tiny_step()


def test_the_live_learning_rate_applies_from_the_next_step() -> None:
    from app.demos.base import InlineControl

    control = InlineControl(Params(steps=4, pace=0))
    rates = []
    for point in DEMO.steps(control.params, control):
        rates.append(point["lr"])
        control.change(lr=1.5)
    assert rates == [0.5, 1.5, 1.5, 1.5]


def playground_numbers(slug: str) -> list[float]:
    text = (ROOT / "content" / "training" / f"{slug}.md").read_text()
    section = text.split("## In the playground", 1)[1].split("\n## ", 1)[0]
    table = section[section.index("| $z$") :]
    return [float(n.replace("−", "-")) for n in re.findall(r"[-−]?\d+\.\d{4}", table)]


def test_the_pages_table_shows_the_computed_step() -> None:
    step = backprop.tiny_step()
    f, b = step["forward"], step["backward"]
    expected = [
        *f["z"],
        *f["h"],
        f["y"],
        f["loss"],
        b["dL_dy"],
        *b["dL_dw2"],
        *b["dL_dh"],
        *b["dL_dz"],
        *b["dL_dW1"][0],
        *b["dL_dW1"][1],
        step["after_step"]["loss"],
    ]
    assert b["dL_db2"] == b["dL_dy"] and b["dL_db1"] == b["dL_dz"]  # the table lists each once
    assert playground_numbers("backpropagation") == [round(v, 4) for v in expected]


@pytest.mark.parametrize("bad", [{"depth": 0}, {"depth": 9}, {"width": 1}, {"activation": "gelu"}, {"lr": 0}])
def test_bad_params_are_rejected(bad: dict) -> None:
    with pytest.raises(ValidationError):
        Params(**bad)
