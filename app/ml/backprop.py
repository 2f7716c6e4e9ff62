"""Backpropagation made visible: a small MLP, its per-layer gradient norms, a finite-difference
gradient check, and one step of a 2-2-1 network worked out by hand."""

from __future__ import annotations

import math
from collections.abc import Callable
from itertools import pairwise

import torch
from torch import Tensor, nn

ACTIVATIONS: dict[str, type[nn.Module]] = {"sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU}
INITS = ("default", "xavier", "kaiming")


def init_std(scheme: str, fan_in: int, fan_out: int, gain: float = 1.0) -> float:
    """The standard deviation of a weight under each initialisation, times `gain`.

    default: PyTorch's nn.Linear, U(−1/√fan_in, 1/√fan_in), whose std is 1/√(3·fan_in).
    xavier: Glorot and Bengio (2010)'s normal init, √(2 / (fan_in + fan_out)): keeps the variance of
    the forward signal and of the backward error equal from layer to layer, for a unit-slope activation.
    kaiming: He et al. (2015)'s normal init for relu, √(2 / fan_in): relu zeroes half the signal."""
    base = {
        "default": 1 / math.sqrt(3 * fan_in),
        "xavier": math.sqrt(2 / (fan_in + fan_out)),
        "kaiming": math.sqrt(2 / fan_in),
    }[scheme]
    return gain * base


def initialise(layer: nn.Linear, scheme: str, gain: float = 1.0) -> None:
    """Re-draw a layer's weights under `scheme`, scaled by `gain` (from the global RNG). The default
    keeps PyTorch's own draw, weights and biases; xavier and kaiming draw normal weights and zero
    biases, as their papers do."""
    with torch.no_grad():
        if scheme == "default":
            layer.weight.mul_(gain)
            return
        layer.weight.normal_(0.0, init_std(scheme, layer.in_features, layer.out_features, gain))
        layer.bias.zero_()


def make_mlp(
    depth: int,
    width: int,
    activation: str,
    seed: int,
    d_in: int = 2,
    d_out: int = 2,
    init: str = "default",
    gain: float = 1.0,
) -> nn.Sequential:
    """`depth` hidden layers of `width` units, every weight layer initialised by `init` × `gain`, seeded."""
    sizes = [d_in] + [width] * depth
    layers: list[nn.Module] = []
    with torch.random.fork_rng(devices=[]):  # a seeded init that leaves the caller's RNG alone
        torch.manual_seed(seed)
        for fan_in, fan_out in pairwise(sizes):
            layers += [nn.Linear(fan_in, fan_out), ACTIVATIONS[activation]()]
        layers.append(nn.Linear(sizes[-1], d_out))
        for layer in linear_layers(nn.Sequential(*layers)):
            initialise(layer, init, gain)
    return nn.Sequential(*layers)


def slope_from_output(activation: nn.Module, a: Tensor) -> Tensor:
    """σ'(z) written with the activation's output a = σ(z): a(1 − a) for the sigmoid (at most 0.25),
    1 − a² for tanh (at most 1), 1 where relu is active and 0 where it is not."""
    if isinstance(activation, nn.Sigmoid):
        return a * (1 - a)
    if isinstance(activation, nn.Tanh):
        return 1 - a * a
    if isinstance(activation, nn.ReLU):
        return (a > 0).to(a.dtype)
    raise TypeError(f"no slope for {type(activation).__name__}")


def forward_with_slopes(model: nn.Sequential, x: Tensor) -> tuple[Tensor, list[float]]:
    """The model's output, and the mean slope σ'(z) of each hidden layer over the batch, input side first.

    The backward recursion δˡ = (Wˡ⁺¹)ᵀ δˡ⁺¹ ⊙ σ'(zˡ) multiplies the error by these slopes once per
    layer: a mean near 0 is a saturated (sigmoid, tanh) or dead (relu) layer that passes little
    gradient down, and the sigmoid's is at most 0.25 even where nothing saturates."""
    slopes: list[float] = []
    for module in model:
        x = module(x)
        if isinstance(module, tuple(ACTIVATIONS.values())):
            slopes.append(slope_from_output(module, x.detach()).mean().item())
    return x, slopes


def linear_layers(model: nn.Module) -> list[nn.Linear]:
    """The weight layers, input layer first."""
    return [m for m in model.modules() if isinstance(m, nn.Linear)]


def layer_grad_norms(model: nn.Module) -> list[float]:
    """‖∂L/∂θ‖ of each weight layer (its weight and bias together), input layer first.

    Backprop multiplies the error signal by Wᵀ and σ'(z) once per layer on the way down,
    so these norms show how the signal shrinks or grows with depth."""
    return [
        math.sqrt(sum(grad_of(q).pow(2).sum().item() for q in (layer.weight, layer.bias)))
        for layer in linear_layers(model)
    ]


def gradient_check(
    model: nn.Module,
    x: Tensor,
    y: Tensor,
    loss_fn: Callable[[Tensor, Tensor], Tensor],
    per_tensor: int = 8,
    eps: float = 1e-4,
    seed: int = 0,
) -> dict[str, float | int | str]:
    """Autograd against central finite differences ĝ = (L(θ + ε) − L(θ − ε)) / 2ε, in float64.

    Checks up to `per_tensor` random coordinates of every parameter tensor of a float64 copy of the
    model, on the batch (x, y). Each tensor's error is its largest |g − ĝ| over the largest |g| + |ĝ|:
    relative to the size of that tensor's gradient, since a deep sigmoid stack's first layer has
    gradients near 1e-8 and single coordinates (a dead ReLU's) may be exactly 0. ε = 1e-4 keeps the
    rounding error of ĝ (about 1e-16 / ε) below the gradients and the truncation error (about ε²)
    small; where autograd is right the result is about 1e-5 or less, a wrong backward pass gives ~1."""
    import copy

    probe = copy.deepcopy(model).double()
    x = x.double()

    def loss() -> Tensor:
        return loss_fn(probe(x), y)

    probe.zero_grad()
    loss().backward()
    generator = torch.Generator().manual_seed(seed)
    worst, checked = 0.0, 0
    with torch.no_grad():
        for q in probe.parameters():
            flat, grads = q.view(-1), grad_of(q).view(-1)
            gap, scale = 0.0, 0.0
            for i in torch.randperm(flat.numel(), generator=generator)[:per_tensor].tolist():
                saved = flat[i].item()
                flat[i] = saved + eps
                up = loss().item()
                flat[i] = saved - eps
                down = loss().item()
                flat[i] = saved
                numeric, analytic = (up - down) / (2 * eps), grads[i].item()
                gap, scale = max(gap, abs(numeric - analytic)), max(scale, abs(numeric) + abs(analytic))
                checked += 1
            worst = max(worst, gap / max(scale, 1e-300))
    return {"max_relative_error": worst, "coordinates_checked": checked, "eps": eps, "dtype": "float64"}


# --- one step of a 2-2-1 network, by hand ------------------------------------------------------

TINY = {  # the fixed network and example of the "one step" view and of the page's table
    "x": [1.0, 0.5],
    "t": 1.0,
    "W1": [[0.4, -0.6], [0.7, 0.2]],  # row j: the weights into hidden unit j
    "b1": [0.1, -0.2],
    "w2": [1.2, -0.8],
    "b2": 0.3,
    "lr": 0.1,
}


def sigmoid(z: float) -> float:
    return 1 / (1 + math.exp(-z))


def tiny_forward(x: list[float], t: float, W1: list[list[float]], b1: list[float], w2: list[float], b2: float) -> dict:
    """z = W1 x + b1, h = σ(z), y = w2 · h + b2, L = ½ (y − t)²."""
    z = [sum(w * xi for w, xi in zip(row, x, strict=True)) + b for row, b in zip(W1, b1, strict=True)]
    h = [sigmoid(zj) for zj in z]
    y = sum(w * hj for w, hj in zip(w2, h, strict=True)) + b2
    return {"z": z, "h": h, "y": y, "loss": 0.5 * (y - t) ** 2}


def tiny_step(net: dict = TINY) -> dict:
    """Every forward value and every backward gradient of one SGD step, by the chain rule, in plain
    Python; then the loss after the step. The same recursion autograd runs, written out."""
    x, t, W1, b1, w2, b2, lr = (net[k] for k in ("x", "t", "W1", "b1", "w2", "b2", "lr"))
    forward = tiny_forward(x, t, W1, b1, w2, b2)
    h, y = forward["h"], forward["y"]
    dL_dy = y - t  # from L = ½ (y − t)²
    dL_dw2 = [dL_dy * hj for hj in h]
    dL_db2 = dL_dy
    dL_dh = [dL_dy * w for w in w2]  # routed back through the output weights
    dL_dz = [g * hj * (1 - hj) for g, hj in zip(dL_dh, h, strict=True)]  # σ'(z) = h (1 − h)
    dL_dW1 = [[d * xi for xi in x] for d in dL_dz]
    dL_db1 = dL_dz
    updated = {
        "W1": [[w - lr * g for w, g in zip(row, grow, strict=True)] for row, grow in zip(W1, dL_dW1, strict=True)],
        "b1": [b - lr * g for b, g in zip(b1, dL_db1, strict=True)],
        "w2": [w - lr * g for w, g in zip(w2, dL_dw2, strict=True)],
        "b2": b2 - lr * dL_db2,
    }
    return {
        "network": "2-2-1: sigmoid hidden layer, linear output, L = ½ (y − t)²",
        "inputs": dict(net),
        "forward": forward,
        "backward": {
            "dL_dy": dL_dy,
            "dL_dw2": dL_dw2,
            "dL_db2": dL_db2,
            "dL_dh": dL_dh,
            "dL_dz": dL_dz,
            "dL_dW1": dL_dW1,
            "dL_db1": dL_db1,
        },
        "after_step": {**updated, "loss": tiny_forward(x, t, **updated)["loss"]},
    }


def grad_of(parameter: Tensor) -> Tensor:
    """A parameter's gradient, which the caller's backward pass must have filled."""
    if parameter.grad is None:
        raise ValueError("no gradient: call backward() first")
    return parameter.grad
