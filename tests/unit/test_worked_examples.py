"""Every worked example on the term pages, recomputed from its formula.

Each function below redoes one page's arithmetic in plain Python and returns the strings the
page must contain, formatted the way the page writes them. The test then looks for each string
in the Markdown source, so a number that drifts from its formula, or a formula changed without
its numbers, fails here and names the page and the string.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable
from pathlib import Path
from statistics import NormalDist

import pytest

PAGES = Path(__file__).resolve().parents[2] / "content" / "training"
EXAMPLES: dict[str, Callable[[], list[str]]] = {}


def example(slug: str):
    def register(fn: Callable[[], list[str]]) -> Callable[[], list[str]]:
        EXAMPLES[slug] = fn
        return fn

    return register


# --- formatting, as the pages write numbers ------------------------------------------------


def fixed(x: float, digits: int) -> str:
    return f"{x:.{digits}f}"


def trimmed(x: float, digits: int) -> str:
    """Fixed digits without trailing zeros: 0.5000 -> 0.5, -1.0000 -> -1."""
    text = f"{x:.{digits}f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def grouped(x: float, digits: int = 0) -> str:
    """Thousands separators as in prose: 9,537."""
    return f"{x:,.{digits}f}"


def grouped_math(x: float, digits: int = 0) -> str:
    """Thousands separators inside $...$: 58{,}333."""
    return grouped(x, digits).replace(",", "{,}")


def sci(x: float, digits: int, braces: bool = True) -> str:
    """5.88e23 -> '5.88 \\times 10^{23}' (or 10^9 without braces, as some pages write it)."""
    exponent = math.floor(math.log10(abs(x)))
    mantissa = x / 10**exponent
    if round(mantissa, digits) >= 10:
        mantissa, exponent = mantissa / 10, exponent + 1
    power = f"{{{exponent}}}" if braces else str(exponent)
    return f"{mantissa:.{digits}f} \\times 10^{power}"


def e_notation(x: float, digits: int) -> str:
    """2.6046e-4 with 3 digits -> '2.605e-4', as the learning-rate table writes rates."""
    mantissa, exponent = f"{x:.{digits}e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def percent(fraction: float, digits: int = 0) -> str:
    return f"{100 * fraction:.{digits}f}%"


def percent_math(fraction: float, digits: int = 0) -> str:
    return percent(fraction, digits).replace("%", "\\%")


def minus(text: str) -> str:
    """The QLoRA table uses the typographic minus sign."""
    return text.replace("-", "\u2212")


NUMBER_WORDS = {6: "six"}


def sigmoid(z: float) -> float:
    return 1 / (1 + math.exp(-z))


def softplus(z: float) -> float:
    """log(1 + e^z), which is -log(sigmoid(-z))."""
    return math.log1p(math.exp(z))


def softmax(z: list[float], temperature: float = 1.0) -> list[float]:
    exps = [math.exp(v / temperature) for v in z]
    return [e / sum(exps) for e in exps]


def kl(p: list[float], q: list[float]) -> float:
    return sum(a * math.log(a / b) for a, b in zip(p, q, strict=True))


def vector(values: list[float], digits: int) -> str:
    return "(" + ", ".join(fixed(v, digits) for v in values) + ")"


def row(*cells: str) -> str:
    return "| " + " | ".join(cells) + " |"


# --- one function per page -----------------------------------------------------------------


@example("backpropagation")
def backpropagation() -> list[str]:
    x, t, w1, w2 = 1.5, 1.0, 0.8, -1.2

    def loss(w1: float, w2: float) -> float:
        return 0.5 * (w2 * sigmoid(w1 * x) - t) ** 2

    z = w1 * x
    h = sigmoid(z)
    y = w2 * h
    dy = y - t
    dh = dy * w2
    dsigma = h * (1 - h)
    dz = dh * dsigma
    eps = 1e-6
    fd_w1 = (loss(w1 + eps, w2) - loss(w1 - eps, w2)) / (2 * eps)
    fd_w2 = (loss(w1, w2 + eps) - loss(w1, w2 - eps)) / (2 * eps)
    return [
        f"$z = w_1 x = {z:g}$",
        f"$h = \\sigma(1.2) = {fixed(h, 5)}$",
        f"$y = w_2 h = {fixed(y, 5)}$",
        f"= {fixed(loss(w1, w2), 5)}$",
        f"$\\partial L / \\partial y = y - t = {fixed(dy, 5)}$",
        f"$\\partial L / \\partial w_2 = (y - t) \\cdot h = {fixed(dy * h, 5)}$",
        f"$\\partial L / \\partial h = (y - t) \\cdot w_2 = {fixed(dh, 5)}$",
        f"$\\sigma'(z) = h(1 - h) = {fixed(dsigma, 5)}$",
        f"= {fixed(dz, 5)}$",
        f"$\\partial L / \\partial w_1 = {fixed(dz, 5)} \\cdot x = {fixed(dz * x, 5)}$",
        f"gives ${fixed(fd_w2, 5)}$ and ${fixed(fd_w1, 5)}$",
        f"tensor({fixed(dz * x, 4)}) tensor({fixed(dy * h, 4)})",
    ]


@example("distillation")
def distillation() -> list[str]:
    teacher, student = [6.0, 3.5, 1.0, -2.0], [4.0, 1.0, 2.0, -1.0]
    out = []
    for name, logits in (("teacher", teacher), ("student", student)):
        for t in (1, 4):
            out.append(row(f"{name}, T = {t}", *(fixed(p, 4) for p in softmax(logits, t))))
    pt, ps = softmax(teacher, 4), softmax(student, 4)
    soft = kl(pt, ps)
    hard = -math.log(softmax(student)[0])
    alpha = 0.5
    gradient = [(s - t) / 4 for s, t in zip(ps, pt, strict=True)]
    out += [
        f"$-\\log {fixed(softmax(student)[0], 4)} \\approx {fixed(hard, 4)}$",
        f"The KL at $T = 4$ is {fixed(soft, 4)}, which the $T^2$ factor turns into {fixed(16 * soft, 4)}",
        f"\\approx {fixed(alpha * 16 * soft + (1 - alpha) * hard, 4)}",
        f"are ${vector(gradient, 4)}$",
        f"become ${vector([16 * g for g in gradient], 4)}$",
        # the reverse KL that MiniLLM minimises, at both temperatures
        f"it is {fixed(kl(ps, pt), 4)} at $T = 4$ against a forward {fixed(soft, 4)}",
        f"but {fixed(kl(softmax(student), softmax(teacher)), 4)} against "
        f"{fixed(kl(softmax(teacher), softmax(student)), 4)} at $T = 1$",
    ]
    return out


@example("dpo")
def dpo() -> list[str]:
    beta, eps = 0.1, 0.1
    ratio_w, ratio_l = -41.3 - (-43.1), -55.6 - (-54.4)
    h = ratio_w - ratio_l
    loss = softplus(-beta * h)
    flipped = softplus(beta * h)
    return [
        f"$h = 1.8 - (-1.2) = {fixed(h, 1)}$ and $\\beta h = {fixed(beta * h, 1)}$",
        f"$\\hat{{r}}(y_w) = {fixed(beta * ratio_w, 2)}$, $\\hat{{r}}(y_l) = {fixed(beta * ratio_l, 2)}$",
        f"$-\\log \\sigma(0.3) = {fixed(loss, 3)}$, down from $\\log 2 = {fixed(math.log(2), 3)}$",
        f"$\\sigma(0.3) = {fixed(sigmoid(beta * h), 3)}$",
        f"$\\sigma(-0.3) = {fixed(sigmoid(-beta * h), 3)}$",
        f"$(3.0 - 5)^2 = {fixed((h - 1 / (2 * beta)) ** 2, 1)}$",
        f"$0.9 \\cdot {fixed(loss, 3)} + 0.1 \\cdot {fixed(flipped, 3)} = "
        f"{fixed((1 - eps) * loss + eps * flipped, 3)}$",
        # cDPO's minimum: sigma(beta h) = 1 - eps
        f"$h \\approx {fixed(math.log((1 - eps) / eps) / beta, 1)}$",
        f"$\\max(0, 1 - 0.3) = {fixed(max(0.0, 1 - beta * h), 1)}$",
    ]


LLAMA2_7B_SHAPE = {"layers": 32, "hidden": 4096, "mlp": 11008}


def lora_parameters(rank: int, layers: int, hidden: int, mlp: int) -> tuple[int, int, int, int]:
    """Adapters on the four attention and three MLP projections of every layer."""
    attention = rank * (hidden + hidden)
    mlp_matrix = rank * (hidden + mlp)
    per_layer = 4 * attention + 3 * mlp_matrix
    return attention, mlp_matrix, per_layer, layers * per_layer


@example("fine-tuning")
def fine_tuning() -> list[str]:
    n = 7e9
    full = n * 16  # bf16 weight and gradient, fp32 master copy, two fp32 Adam moments
    attention, mlp, per_layer, total = lora_parameters(16, **LLAMA2_7B_SHAPE)
    adapters_gb = total * 16 / 1e9
    return [
        f"$7 \\times 10^9 \\times 16 = {sci(full, 2)}$ bytes, or {full / 1e9:.0f} GB",
        f"$16 \\cdot (4096 + 4096) = {grouped_math(attention)}$",
        f"$16 \\cdot (4096 + 11008) = {grouped_math(mlp)}$",
        f"so {grouped(per_layer)} per layer and {grouped(total)} in total, about {percent(total / n, 1)}",
        f"\\approx {adapters_gb:.2f}$ GB",
        f"roughly {14 + adapters_gb:.1f} GB plus activations",
        # fine-tuning rate against the pretraining rate
        f"({1e-4 / 5e-5:.0f} to {1e-4 / 2e-5:.0f} times lower)",
        f"{3e-4 / 2e-5:.0f} times lower",
    ]


@example("gradient-descent")
def gradient_descent() -> list[str]:
    rates = (0.02, 0.09, 0.11)

    def f_after(eta: float, steps: int) -> float:  # f = x^2 + 10 y^2 from (1, 1)
        return (1 - 2 * eta) ** (2 * steps) + 10 * (1 - 20 * eta) ** (2 * steps)

    out = [row("multipliers $(1-2\\eta, 1-20\\eta)$", *(f"({1 - 2 * e:.2f}, {1 - 20 * e:.2f})" for e in rates))]
    for steps, label in ((1, "1 step"), (5, "5 steps"), (10, "10 steps"), (20, "20 steps")):
        out.append(row(f"$f$ after {label}", *(fixed(f_after(e, steps), 4) for e in rates)))
    best = 1 / 11  # balances |1 - 2 eta| against |1 - 20 eta|
    assert math.isclose(1 - 2 * best, -(1 - 20 * best))
    out += [
        f"where $f = {f_after(0, 0):g}$",
        f"balances the two multipliers at $\\pm {round((1 - 2 * best) * 11)}/11$",
        f"shrinking {percent(1 - (1 - 2 * 0.02))} per step",
    ]
    return out


@example("instruction-tuning")
def instruction_tuning() -> list[str]:
    sizes = {"translation": 2_000_000, "sentiment": 67_000, "inference": 2_500}
    total = sum(sizes.values())
    cap = 30_000
    capped = {k: min(v, cap) for k, v in sizes.items()}
    capped_total = sum(capped.values())
    weights = [capped[k] / capped_total for k in sizes]
    boost = weights[2] / (sizes["inference"] / total)
    return [
        f"translation {percent(sizes['translation'] / total, 2)}, sentiment "
        f"{percent(sizes['sentiment'] / total, 2)} and inference {percent(sizes['inference'] / total, 2)}",
        f"summing to {grouped(capped_total)}",
        "= (" + ", ".join(trimmed(w, 2) for w in weights) + ")",
        f"over {10 * math.floor(boost / 10)} times more often",
    ]


def cosine_after_warmup(step: int) -> float:
    peak, floor, warmup, total = 3e-4, 3e-5, 500, 10_000
    if step <= warmup:
        return peak * step / warmup
    t = step - warmup
    return floor + 0.5 * (peak - floor) * (1 + math.cos(math.pi * t / (total - warmup)))


@example("learning-rate")
def learning_rate() -> list[str]:
    curvature = 10
    out = [f"the limit is $2/\\lambda = {2 / curvature}$"]
    for eta in (0.05, 0.15, 0.20, 0.25):
        multiplier = 1 - curvature * eta
        iterates = [multiplier**k for k in range(1, 6)]
        # a row prefix: the 0.20 row goes on to say "(never settles)"
        out.append(row(fixed(eta, 2), trimmed(multiplier, 4), ", ".join(trimmed(v, 4) for v in iterates))[:-2])
    for step, digits in ((250, 1), (500, 1), (2875, 3), (5250, 2), (7625, 2), (10_000, 1)):
        out.append(f"| {e_notation(cosine_after_warmup(step), digits)} |")
    out += [
        f"only {1e-4 / 5e-5:.0f} to {1e-4 / 2e-5:.0f} times less",
        f"then 2e-5, {3e-4 / 2e-5:.0f} times less",
    ]
    return out


@example("lora")
def lora() -> list[str]:
    d = k = 4096
    alpha = 16
    out = [
        f"8 \\cdot (4096 + 4096) = {grouped_math(8 * (d + k))}",
        f"4096 \\cdot 4096 = {grouped_math(d * k)}",
        f"trains {trimmed(100 * 8 * (d + k) / (d * k), 6)}% of the matrix, {d * k // (8 * (d + k))} times fewer",
        f"rsLoRA by $16 / \\sqrt{{8}} \\approx {fixed(alpha / math.sqrt(8), 3)}$",
        f"print(A.numel() + B.numel(), W0.numel())            # {8 * (d + k)} {d * k}",
    ]
    for r in (1, 8, 16, 64):
        out.append(row(str(r), grouped(r * (d + k)), trimmed(alpha / r, 3), trimmed(alpha / math.sqrt(r), 3)))
    attention, _, _, total = lora_parameters(16, **LLAMA2_7B_SHAPE)
    assert attention == 131_072 and total == 39_976_960  # the fine-tuning page's count
    return out


@example("loss-function")
def loss_function() -> list[str]:
    logits = [2.0, 1.0, 0.1, -1.0]
    exps = [math.exp(z) for z in logits]
    probs = softmax(logits)
    confident = softmax([0.5, 2.5, 0.0, -0.5])[1]
    losses = [-math.log(probs[0]), -math.log(confident), -math.log(probs[2])]
    mean = sum(losses) / 3
    out = [
        "The exponentials are " + ", ".join(fixed(e, 3) for e in exps[:3]) + f" and {fixed(exps[3], 3)}",
        f"which sum to {fixed(sum(exps), 3)}",
        f"$(0.6381 - 1, 0.2347, 0.0954, 0.0318) = {vector([probs[0] - 1, *probs[1:]], 4)}$",
        f"{fixed(confident, 4)} (a confident, correct guess",
        "L = \\frac{" + " + ".join(fixed(v, 4) for v in losses) + f"}}{{3}} = {fixed(mean, 4)}",
        f"$\\exp({fixed(mean, 4)}) = {fixed(math.exp(mean), 2)}$",
        f"$\\log 4 = {fixed(math.log(4), 4)}$",
        f"print(round(L, 4), round(math.exp(L), 2))  # {fixed(mean, 4)} {fixed(math.exp(mean), 2)}",
        f"a probability of 0.5 costs {fixed(-math.log(0.5), 2)}, but 0.001 costs {fixed(-math.log(0.001), 1)}",
        f"about {fixed(math.log(32_000), 1)} nats for 32,000 tokens",
        f"1 nat is about {fixed(1 / math.log(2), 2)} bits",
    ]
    for token, z, p in zip(("the", "cat", "sat", "mat"), logits, probs, strict=True):
        out.append(row(token, fixed(z, 1), fixed(p, 4), fixed(-math.log(p), 4)))
    assert losses[2] / sum(losses) > 0.75  # "more than three quarters of the total"
    return out


@example("preference-data")
def preference_data() -> list[str]:
    agreement = 0.73
    # (1 - e)^2 + e^2 = a  <=>  2e^2 - 2e + (1 - a) = 0, the root below 1/2
    eps = (1 - math.sqrt(1 - 2 * (1 - agreement))) / 2
    return [
        f"\\sigma(0.8) \\approx {fixed(sigmoid(0.8), 3)}",
        f"a gap of 2 gives about {percent(sigmoid(2))}",
        f"gives $\\epsilon \\approx {fixed(eps, 3)}$",
        f"about $1 - \\epsilon \\approx {percent(1 - eps, 1).replace('%', '')}\\%$",
        f"$0.75 \\cdot 0.9 + 0.25 \\cdot 0.1 = {fixed(0.75 * 0.9 + 0.25 * 0.1, 2)}$",
        f"$\\binom{{9}}{{2}} = {math.comb(9, 2)}$",
        f"the {NUMBER_WORDS[math.comb(4, 2)]} training pairs",
        # the playground's annotator: Bradley-Terry at temperature 2
        f"a one-point gap is won just {percent(sigmoid(1 / 2))} of the time",
    ]


@example("pretraining")
def pretraining() -> list[str]:
    rows = [("the", "cat", 0.02), ("the cat", "sat", 0.10), ("the cat sat", "on", 0.45)]
    rows += [("the cat sat on", "the", 0.60), ("the cat sat on the", "mat", 0.30)]
    losses = [-math.log(p) for _, _, p in rows]
    mean = sum(losses) / len(losses)
    n, d = 1e9, 2e10
    compute = 6 * n * d
    gpu_seconds = compute / 4e14
    batch = 1024 * 2048
    gpt3 = 6 * 175e9 * 3e11
    out = [row(c, t, f"{p:.2f}", fixed(loss, 4)) for (c, t, p), loss in zip(rows, losses, strict=True)]
    out += [
        f"${fixed(sum(losses), 4)} / 5 = {fixed(mean, 4)}$ nats",
        f"$\\exp({fixed(mean, 4)}) = {fixed(math.exp(mean), 2)}$",
        f"= {sci(compute, 1)} \\text{{ FLOPs}}",
        f"= {grouped_math(gpu_seconds)}$ GPU-seconds, about {gpu_seconds / 3600:.0f} GPU-hours",
        f"({grouped(batch)} tokens per step), the run takes about {grouped(d / batch)} optimiser steps",
        f"= {sci(gpt3, 2)}$ FLOPs, more than two and a half thousand times larger",
        "in batches of 4 million took about half a million",
        f"1.4 trillion tokens, about {1.4e12 / 70e9:.0f} tokens per parameter",
    ]
    assert 2500 < gpt3 / compute < 3000
    assert 2e12 / 4e6 == 5e5
    return out


def float32(x: float) -> float:
    return struct.unpack("f", struct.pack("f", x))[0]


def nf4_levels() -> list[float]:
    """QLoRA's NormalFloat4: quantiles of N(0, 1) scaled to [-1, 1], 8 positive and 7 negative
    levels plus an exact zero (bitsandbytes' create_normal_map, offset 0.9677083).

    The quantile grid is built as bitsandbytes builds it, with a float32 linspace, and the
    levels are stored in float32. That matters for the page: in exact arithmetic level 6 is
    -0.09104999 (rounds to -0.0910), in the float32 table NF4 uses it is -0.09105004 (-0.0911)."""
    offset, ppf = float32(0.9677083), NormalDist().inv_cdf

    def grid(count: int) -> list[float]:  # torch.linspace(offset, 0.5, count) without the 0.5
        step = float32((0.5 - offset) / (count - 1))
        half = count // 2
        points = [
            float32(offset + i * step) if i < half else float32(0.5 - (count - 1 - i) * step) for i in range(count)
        ]
        return points[:-1]

    positive = [float32(ppf(q)) for q in grid(9)]
    negative = [float32(-ppf(q)) for q in grid(8)]
    scale = max(positive)
    return sorted(float32(v / scale) for v in [*positive, 0.0, *negative])


@example("qlora")
def qlora() -> list[str]:
    levels = nf4_levels()
    assert len(levels) == 16 and levels[0] == -1.0 and levels[-1] == 1.0
    assert math.isclose(levels[6], -0.09105003625154495, abs_tol=1e-9)  # bitsandbytes' table value

    def level(v: float) -> str:
        return trimmed(v, 0) if v in (-1.0, 0.0, 1.0) else fixed(v, 4)

    out = [minus(", ".join(level(v) for v in levels))]
    scale = 0.12
    for w in (0.1200, 0.0660, 0.0210, 0.0035, -0.0470):
        index = min(range(16), key=lambda j: abs(levels[j] - w / scale))
        restored = scale * levels[index]
        error = restored - w
        error_text = "0" if abs(error) < 5e-6 else f"{error:+.5f}"
        restored_text = "0" if restored == 0 else fixed(restored, 5)
        nearest = "0" if levels[index] == 0 else fixed(levels[index], 4)
        cells = (fixed(w, 4), fixed(w / scale, 4), nearest, str(index), restored_text, error_text)
        out.append(minus(row(*cells)))
    plain = 4 + 32 / 64
    double = 4 + 8 / 64 + 32 / (64 * 256)
    weights = 7e9 * round(double, 3) / 8
    adapters = lora_parameters(16, **LLAMA2_7B_SHAPE)[3] * 16 / 1e9
    out += [
        f"= {trimmed(plain, 2)} \\text{{ bits per parameter}}",
        f"= {double!r} \\approx {fixed(double, 3)} \\text{{ bits per parameter}}",
        f"That saves {fixed(plain - round(double, 3), 3)} bits per parameter, "
        f"about {65e9 * (plain - double) / 8 / 1e9:.0f} GB",
        f"\\approx {sci(weights, 2, braces=False)} \\text{{ bytes}}",
        f"about {weights / 1e9:.1f} GB ({weights / 2**30:.2f} GiB), against {7e9 * plain / 8 / 1e9:.2f} GB at 4.5 bits "
        f"and {7e9 * 2 / 1e9:.0f} GB in bf16",
        f"that is about {adapters:.2f} GB",
        f"The total, about {weights / 1e9 + adapters:.1f} GB",
    ]
    return out


@example("reward-model")
def reward_model() -> list[str]:
    pairs = [(1.5, 0.2), (0.3, 0.9), (2.0, 1.8)]
    deltas = [chosen - rejected for chosen, rejected in pairs]
    losses = [softplus(-d) for d in deltas]
    out = [
        f"Pair {i}: $\\Delta = {trimmed(d, 1)}$, $\\sigma(\\Delta) = {fixed(sigmoid(d), 3)}$, loss $"
        + ("-\\log \\sigma(\\Delta) = " if i == 1 else "")  # the first pair spells the loss out
        + f"{fixed(loss, 3)}$"
        for i, (d, loss) in enumerate(zip(deltas, losses, strict=True), start=1)
    ]
    assert fixed(softplus(0.6), 5) == "1.03749"
    gradients = [1 - sigmoid(d) for d in deltas]
    doubled = sum(softplus(-2 * d) for d in deltas) / 3
    out += [
        f"The mean loss is {fixed(sum(losses) / 3, 3)}",
        f"{sum(d > 0 for d in deltas)}/3",
        "are " + ", ".join(fixed(g, 3) for g in gradients[:2]) + f" and {fixed(gradients[2], 3)}",
        f"(to {fixed(doubled, 3)} here)",
        # the best-of-n KL bound of Gao et al., checked by Beirami et al.
        f"gives {fixed(math.log(4) - 3 / 4, 3)} nats for $n = 4$ and {fixed(math.log(16) - 15 / 16, 3)} nats",
        f"exactly $\\ln 2 \\approx {fixed(math.log(2), 3)}$",
    ]
    return out


@example("rlhf")
def rlhf() -> list[str]:
    policy, reference = [-1.20, -0.35, -2.10, -0.80], [-1.50, -0.40, -2.60, -0.70]
    beta, score = 0.1, 2.0
    ratios = [p - r for p, r in zip(policy, reference, strict=True)]
    rewards = [-beta * x for x in ratios]
    rewards[-1] += score

    def clipped(rho: float, advantage: float, eps: float = 0.2) -> tuple[float, float]:
        return rho * advantage, min(max(rho, 1 - eps), 1 + eps) * advantage

    group = [1.0, 0.0, 0.0, 1.0]
    mean = sum(group) / len(group)
    std = math.sqrt(sum((r - mean) ** 2 for r in group) / len(group))
    grpo = [(r - mean) / std for r in group]
    rloo = [r - (sum(group) - r) / (len(group) - 1) for r in group]
    return [
        f"are $({', '.join(fixed(x, 2) for x in ratios)})$",
        "= (" + ", \\; ".join(fixed(r, 3) for r in rewards) + ")",
        f"$2.0 - 0.1 \\cdot {fixed(sum(ratios), 2)} = {fixed(score - beta * sum(ratios), 3)}$",
        "the unclipped value is {} but the clipped one is $1.2 \\cdot 2.0 = {}$".format(
            *map(trimmed, clipped(1.3, 2.0), (1, 1))
        ),
        "the values are ${}$ and ${}$".format(*(trimmed(v, 1) for v in clipped(0.7, -1.0))),
        f"the unclipped ${trimmed(clipped(1.3, -1.0)[0], 1)}$ is the minimum",
        f"GRPO's advantages are $({', '.join(trimmed(a, 3) for a in grpo)})$",
        f"(mean {trimmed(mean, 2)}, population standard deviation {trimmed(std, 2)}",
        f"RLOO's are $({', '.join(fixed(a, 3) for a in rloo)})$",
    ]


def chinchilla_loss(fit: tuple[float, ...], n: float, d: float) -> float:
    e, a, b, alpha, beta = fit
    return e + a / n**alpha + b / d**beta


def chinchilla_optimum(fit: tuple[float, ...], compute: float) -> tuple[float, float]:
    """Minimise the fit under C = 6ND: N = G (C/6)^(beta/(alpha+beta))."""
    _, a, b, alpha, beta = fit
    g = (alpha * a / (beta * b)) ** (1 / (alpha + beta))
    n = g * (compute / 6) ** (beta / (alpha + beta))
    return n, compute / (6 * n)


PUBLISHED = (1.69, 406.4, 410.7, 0.34, 0.28)  # Hoffmann et al. 2022
REFIT = (1.82, 482.01, 2085.43, 0.348, 0.366)  # Besiroglu et al. 2024


@example("scaling-laws")
def scaling_laws() -> list[str]:
    e, a, b, alpha, beta = PUBLISHED
    small, large = (7e9, 140e9), (70e9, 1.4e12)
    budget = 6 * large[0] * large[1]
    out = [
        f"$2^{{-0.076}} \\approx {fixed(2**-0.076, 3)}$, a {percent(1 - 2**-0.076)} reduction",
        f"fit(*published)(7e9, 140e9)    # {fixed(chinchilla_loss(PUBLISHED, *small), 4)}",
        f"fit(*published)(70e9, 1.4e12)  # {fixed(chinchilla_loss(PUBLISHED, *large), 4)}",
        f"the model term is {fixed(a / small[0] ** alpha, 3)} and the data term {fixed(b / small[1] ** beta, 3)}, "
        f"so $L \\approx {fixed(chinchilla_loss(PUBLISHED, *small), 3)}$",
        f"$C = 6ND \\approx {sci(6 * small[0] * small[1], 2)}$",
        f"model term {fixed(a / large[0] ** alpha, 3)}, data term {fixed(b / large[1] ** beta, 3)}, "
        f"$L \\approx {fixed(chinchilla_loss(PUBLISHED, *large), 3)}$, with $C \\approx {sci(budget, 2)}$",
        f"the excess over $E$ falls from {fixed(chinchilla_loss(PUBLISHED, *small) - e, 3)} to "
        f"{fixed(chinchilla_loss(PUBLISHED, *large) - e, 3)}",
        f"removes about {fixed(chinchilla_loss(PUBLISHED, *small) - chinchilla_loss(PUBLISHED, *large), 2)} nats",
        f"$C = {sci(budget, 2)}$:",
        f"the two fits disagree by {fixed(REFIT[0] - PUBLISHED[0], 2)}",
        f"its rounded exponents give $a \\approx {fixed(beta / (alpha + beta), 2)}$",
        f"The refit gives $a \\approx {fixed(REFIT[4] / (REFIT[3] + REFIT[4]), 2)}$",
    ]
    for name, fit, ratio_digits in (("published", PUBLISHED, 0), ("refit", REFIT, 1)):
        n, d = chinchilla_optimum(fit, budget)
        out.append(f"optimum(*{name}, 5.88e23)".ljust(30) + f" # ({e_notation(n, 2)}, {e_notation(d, 2)})")
        cells = (f"{n / 1e9:.1f}B", f"{d / 1e12:.2f}T", fixed(d / n, ratio_digits))
        losses = (fixed(chinchilla_loss(fit, n, d), 3), fixed(chinchilla_loss(fit, *large), 3))
        out.append(row(name, *cells, *losses))
    n_small, d_small = chinchilla_optimum(PUBLISHED, 6 * small[0] * small[1])
    n_opt, d_opt = chinchilla_optimum(PUBLISHED, budget)
    gain = chinchilla_loss(PUBLISHED, *large) - chinchilla_loss(PUBLISHED, n_opt, d_opt)
    gopher = (2.8e11, 3e11)
    out += [
        f"({d_small / n_small:.0f} tokens per parameter at ${sci(6 * small[0] * small[1], 2)}$)",
        f"gains only {fixed(gain, 3)} nats over Chinchilla's",
        f"about {percent(1 - 6 * gopher[0] * gopher[1] / budget)} less compute (${sci(6 * gopher[0] * gopher[1], 2)}$)",
        f"$L \\approx {fixed(chinchilla_loss(PUBLISHED, *gopher), 3)}$ (published) and "
        f"$L \\approx {fixed(chinchilla_loss(REFIT, *gopher), 3)}$ (refit)",
        f"({fixed(b / gopher[1] ** beta, 3)} in the published fit)",
        f"some {grouped(round(15e12 / 8e9, -2))} per parameter",
    ]
    return out


@example("sft")
def sft() -> list[str]:
    probs = [0.04, 0.10, 0.02, 0.30, 0.62, 0.91, 0.85]
    response = probs[4:]
    losses = [-math.log(p) for p in probs]
    out = [f"| {p:.2f} | {fixed(loss, 4)} |" for p, loss in zip(probs, losses, strict=True)]
    masked = sum(-math.log(p) for p in response) / len(response)
    out += [
        " + ".join(fixed(-math.log(p), 4) for p in response) + f"}}{{3}} \\approx {fixed(masked, 4)}",
        f"the average over all 7 predictions is about {fixed(sum(losses) / 7, 4)}",
    ]
    return out


def digamma_half_integer(x: float) -> float:
    """psi(m + 1/2) = -gamma - 2 ln 2 + sum_{k=1..m} 2/(2k - 1)."""
    m = round(x - 0.5)
    assert math.isclose(x, m + 0.5)
    return -0.5772156649015329 - 2 * math.log(2) + sum(2 / (2 * k - 1) for k in range(1, m + 1))


@example("synthetic-data")
def synthetic_data() -> list[str]:
    n = 100
    c = (n - 1) / n
    # log of the per-generation factor chi2_{n-1} / n has mean log(2/n) + psi((n-1)/2)
    mean_log = math.log(2 / n) + digamma_half_integer((n - 1) / 2)
    lam = 0.1
    fixed_point = c * lam / (1 - c * (1 - lam))
    p, t, f = 0.6, 0.95, 0.10
    kept_correct, kept_wrong = p * t, (1 - p) * f
    return [
        f"$0.99^{{10}} = {fixed(c**10, 3)}$, after 100 it is $0.99^{{100}} = {fixed(c**100, 3)}$",
        f"the mean log-factor per generation is about ${fixed(mean_log, 4)}$",
        f"about $e^{{{fixed(100 * mean_log, 2)}}} \\approx {fixed(math.exp(100 * mean_log), 3)}$",
        f"= \\frac{{{fixed(c * lam, 3)}}}{{{fixed(1 - c * (1 - lam), 3)}}} \\approx {fixed(fixed_point, 3)}",
        f"at about {percent(fixed_point)} of the original",
        f"${fixed(kept_correct, 2)} / ({fixed(kept_correct, 2)} + {fixed(kept_wrong, 2)}) = "
        f"{fixed(kept_correct / (kept_correct + kept_wrong), 3)}$",
        f"and {percent(kept_correct + kept_wrong)} of the samples are kept",
    ]


@example("training-compute")
def training_compute() -> list[str]:
    n, d, per_gpu = 7e9, 2e12, 4e14
    compute = 6 * n * d
    gpu_seconds = compute / per_gpu
    gpu_hours = gpu_seconds / 3600
    gpu_days = gpu_hours / 24
    a100 = 3.12e14
    measured = 6 * n * 3000
    layers, width, context = 32, 4096, 4096
    attention_palm = 12 * layers * width * context  # per token, forward and backward, full matrix
    n_block = 12 * layers * width**2
    llama2_tokens_per_s = d / (184_320 * 3600)
    return [
        f"= {sci(compute, 1)} \\text{{ FLOPs}}",
        f"of which ${sci(2 * n * d, 1)}$ are forward and ${sci(4 * n * d, 1)}$ backward",
        f"40% of its 989 TFLOP/s is {0.4 * 989:.0f} TFLOP/s",
        f"= {sci(gpu_seconds, 1)}$",
        f"/ 3600 = {grouped_math(gpu_hours)}$",
        f"/ 24 = {grouped_math(gpu_days, 1)}$",
        f"$2430.6 / 1024 = {fixed(gpu_days / 1024, 2)}$ days; on 256 GPUs, {fixed(gpu_days / 256, 1)} days",
        f"about USD {grouped(round(2 * gpu_hours, -3))}",
        f"\\approx {grouped_math(per_gpu / (6 * n))}$ tokens per second",
        f"= \\frac{{{sci(measured, 2)}}}{{3.12 \\times 10^{{14}}}} \\approx {percent_math(measured / a100)}",
        f"/ 86400 \\approx {grouped_math(compute / measured / 86400)}$ GPU-days, over three times as many",
        f"the same throughput is {percent((6 * n + attention_palm) * 3000 / a100, 1)} MFU",
        f"$N \\approx 12 n_{{\\text{{layer}}}} d^2 = {sci(n_block, 1)}$",
        f"about {percent(attention_palm / 2 / (6 * n_block))} to $6N$ under Kaplan's convention and about "
        f"{percent(attention_palm / (6 * n_block))} under PaLM's",
        f"\\approx {grouped_math(llama2_tokens_per_s)}$ tokens per second per GPU",
        f"or {percent(6 * 6.74e9 * d / (184_320 * 3600) / a100)} MFU with its exact",
        f"GPT-3 (175B parameters, 300B tokens) comes to about ${sci(6 * 175e9 * 300e9, 2)}$",
        f"Chinchilla (70B, 1.4T tokens) to about ${sci(6 * 70e9 * 1.4e12, 1)}$",
    ]


# --- the tests -----------------------------------------------------------------------------


def page_text(slug: str) -> str:
    return (PAGES / f"{slug}.md").read_text(encoding="utf-8")


CASES = [pytest.param(slug, text, id=f"{slug}: {text[:60]}") for slug, fn in EXAMPLES.items() for text in fn()]


def test_every_page_has_its_worked_example_recomputed() -> None:
    assert set(EXAMPLES) == {p.stem for p in PAGES.glob("*.md") if not p.stem.startswith("_")}


@pytest.mark.parametrize(("slug", "text"), CASES)
def test_the_page_states_the_recomputed_number(slug: str, text: str) -> None:
    assert text in page_text(slug)
