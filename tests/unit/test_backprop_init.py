"""Initialisation schemes and the per-layer slope measure of the backpropagation playground,
against their closed forms and a hand computation."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from app.ml import backprop

torch.set_num_threads(1)


@pytest.mark.parametrize(
    ("scheme", "fan_in", "fan_out", "gain", "expected"),
    [
        ("default", 48, 16, 1.0, 1 / 12),  # U(−1/√48, 1/√48): std 1/√(3·48) = 1/12
        ("xavier", 16, 16, 1.0, 0.25),  # √(2/32)
        ("xavier", 16, 16, 4.0, 1.0),
        ("kaiming", 8, 100, 1.0, 0.5),  # √(2/8)
        ("default", 3, 7, 2.0, 2 / 3),
    ],
)
def test_init_std_closed_forms(scheme: str, fan_in: int, fan_out: int, gain: float, expected: float) -> None:
    assert backprop.init_std(scheme, fan_in, fan_out, gain) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(("scheme", "gain"), [("default", 1.0), ("xavier", 1.0), ("xavier", 4.0), ("kaiming", 0.5)])
def test_the_drawn_weights_have_the_closed_form_std(scheme: str, gain: float) -> None:
    model = backprop.make_mlp(2, 256, "tanh", seed=3, init=scheme, gain=gain)
    for layer in backprop.linear_layers(model):
        fan_out, fan_in = layer.weight.shape
        expected = (
            gain
            * {
                "default": math.sqrt(1 / (3 * fan_in)),
                "xavier": math.sqrt(2 / (fan_in + fan_out)),
                "kaiming": math.sqrt(2 / fan_in),
            }[scheme]
        )
        n = layer.weight.numel()
        # The sample std of n draws is within a few 1/√(2n) relative errors of the true std.
        assert layer.weight.std().item() == pytest.approx(expected, rel=4 / math.sqrt(2 * n) + 1e-3)
        if scheme != "default":
            assert torch.count_nonzero(layer.bias) == 0


def test_the_default_init_is_pytorchs_own_draw() -> None:
    torch.manual_seed(5)
    first = nn.Linear(2, 16)
    model = backprop.make_mlp(1, 16, "relu", seed=5)
    assert torch.equal(model[0].weight, first.weight) and torch.equal(model[0].bias, first.bias)
    doubled = backprop.make_mlp(1, 16, "relu", seed=5, gain=2.0)
    assert torch.equal(doubled[0].weight, 2 * first.weight) and torch.equal(doubled[0].bias, first.bias)


def test_slopes_by_hand() -> None:
    """One sigmoid layer of two units with weights (1, −2) and no bias, on inputs 0 and 1:
    z ∈ {0, 0, 1, −2}, and σ'(z) = e^(−z) / (1 + e^(−z))²."""
    net = nn.Sequential(nn.Linear(1, 2), nn.Sigmoid(), nn.Linear(2, 1))
    with torch.no_grad():
        net[0].weight.copy_(torch.tensor([[1.0], [-2.0]]))
        net[0].bias.zero_()
    out, slopes = backprop.forward_with_slopes(net, torch.tensor([[0.0], [1.0]]))

    def slope(z: float) -> float:
        return math.exp(-z) / (1 + math.exp(-z)) ** 2

    assert slopes == pytest.approx([(slope(0) * 2 + slope(1) + slope(-2)) / 4], rel=1e-6)
    assert torch.equal(out, net(torch.tensor([[0.0], [1.0]])))


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
def test_the_slope_from_the_output_is_autograds_derivative(activation: str) -> None:
    z = torch.linspace(-4, 4, 81, dtype=torch.float64, requires_grad=True)
    module = backprop.ACTIVATIONS[activation]()
    a = module(z)
    (derivative,) = torch.autograd.grad(a.sum(), z)
    assert torch.allclose(backprop.slope_from_output(module, a.detach()), derivative)


def test_one_slope_per_hidden_layer_input_side_first() -> None:
    model = backprop.make_mlp(3, 8, "relu", seed=0)
    x = torch.randn(20, 2, generator=torch.Generator().manual_seed(0))
    _, slopes = backprop.forward_with_slopes(model, x)
    h = x
    expected = []
    for layer in backprop.linear_layers(model)[:-1]:
        z = layer(h)
        expected.append((z > 0).float().mean().item())  # relu: the share of active units
        h = z.clamp_min(0)
    assert slopes == pytest.approx(expected)
