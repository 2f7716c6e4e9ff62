"""Counting a transformer's training compute, by the conventions of Kaplan et al. (2020).

Kaplan et al. count N, the non-embedding parameters: every weight except the token and position
embedding tables. A lookup in a table is a copy, not a multiply-add, so it costs (almost) no
FLOPs, while every other weight takes part in one multiply-add per token going forward:
2N FLOPs per token, and the backward pass costs twice the forward one (one product for the
gradient of the input, one for the gradient of the weights), so training costs

    C = 6 N D                                  FLOPs for D tokens.

Attention's scores and weighted sum (Q·Kᵀ and A·V) multiply activations by activations, so they
are not in N. Kaplan et al. (Table 1) count them as 2·n_layer·n_ctx·d_attn FLOPs per token
forward, which makes 6·n_layer·n_ctx·d_attn per token in training. It matters only while
d_model is not much larger than n_ctx / 12: at a tiny width and a long context it does.

Integers throughout, so a count is exact whatever its size.

`count_step` counts instead of estimating: PyTorch's FlopCounterMode adds up the FLOPs of every
matrix product a step dispatches (2 per multiply-add), forward and backward. 6N is exactly that
count for a stack of bias-free Linear layers whose input needs a gradient; in a transformer it
leaves out attention's products and counts the biases and layer norms, which do no matrix
product, as if they did (test_training_compute checks both).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils.flop_counter import FlopCounterMode

EMBEDDINGS = ("tok_emb", "pos_emb")  # the tables a token id or a position indexes into

GPT3_FLOPS = 3.14e23
"""GPT-3 175B's training compute as reported by Brown et al. (2020), Table D.1."""
EU_AI_ACT_FLOPS = 1e25
"""Training compute above which the EU AI Act (Art. 51(2)) presumes a general-purpose model has
high-impact capabilities, i.e. systemic risk."""


def non_embedding_params(model: nn.Module) -> int:
    """N: every parameter except those of the embedding tables (matched by module name)."""
    return sum(p.numel() for name, p in model.named_parameters() if name.split(".")[0] not in EMBEDDINGS)


def training_flops(n_params: int, tokens: int) -> int:
    """6·N·D: forward 2·N·D plus backward 4·N·D."""
    return 6 * n_params * tokens


def attention_flops_per_token(n_layer: int, n_ctx: int, d_attn: int) -> int:
    """The training FLOPs per token of attention's scores and weighted sum: 3 × (2·n_layer·n_ctx·d_attn)."""
    return 6 * n_layer * n_ctx * d_attn


def training_flops_with_attention(n_params: int, tokens: int, n_layer: int, n_ctx: int, d_attn: int) -> int:
    """(6·N + 6·n_layer·n_ctx·d_attn)·D: C = 6ND plus the attention term."""
    return training_flops(n_params, tokens) + attention_flops_per_token(n_layer, n_ctx, d_attn) * tokens


def time_at(flops: float, flops_per_second: float) -> dict[str, float]:
    """How long `flops` would take at a measured rate, in seconds and in years."""
    seconds = flops / flops_per_second
    return {"flops": flops, "seconds": seconds, "years": seconds / (365.25 * 24 * 3600)}


def parameter_breakdown(model: nn.Module) -> dict[str, int]:
    """Parameter counts by kind, for the start event: which ones N counts and which it leaves out."""
    counts: dict[str, int] = {}
    for name, p in model.named_parameters():
        parts = name.split(".")
        kind = parts[0] if parts[0] != "blocks" else parts[2].split("_")[0]  # attn, mlp, ln
        counts[kind] = counts.get(kind, 0) + p.numel()
    return counts


def count_step(step: Callable[[], Any]) -> tuple[Any, dict[str, int]]:
    """Run one training step (forward and backward) and count its FLOPs: (its result, FLOPs by
    operator, e.g. {"mm": ..., "addmm": ..., "bmm": ...}). Attention runs on PyTorch's math
    kernel, whose products (bmm) the counter has formulas for; the fused CPU kernel has none and
    would count as 0. Elementwise work (biases, GELU, softmax, layer norms, Adam) is not counted."""
    with sdpa_kernel(SDPBackend.MATH), FlopCounterMode(display=False) as counter:
        result = step()
    by_op = {str(op).removeprefix("aten."): int(n) for op, n in counter.get_flop_counts()["Global"].items()}
    return result, by_op


PEAK_FP32 = {
    # Dense FP32 on CUDA cores (PyTorch does not use TF32 for float32 matrix products by default),
    # from NVIDIA's H100, H200 and A100 datasheets. Checked in order: NVL and PCIe before SXM.
    ("H100", "NVL"): 60e12,
    ("H100", "PCIe"): 51e12,
    ("H100", ""): 67e12,
    ("H200", "NVL"): 60e12,
    ("H200", ""): 67e12,
    ("A100", ""): 19.5e12,
}
NO_PEAK_CPU = (
    "not known: a CPU's peak depends on its model, cores, vector units and clock, which PyTorch does not "
    "report, so no utilisation is shown rather than one against an invented peak"
)


def peak_flops(device: torch.device) -> tuple[float | None, str]:
    """The device's peak FP32 FLOP/s where it is known, and where the figure comes from (or why none)."""
    if device.type != "cuda":
        return None, NO_PEAK_CPU
    name = torch.cuda.get_device_name(device)
    for (chip, variant), peak in PEAK_FP32.items():
        if chip in name and variant in name:
            return peak, f"{name}: {peak / 1e12:g} TFLOP/s dense FP32 (NVIDIA datasheet)"
    return None, f"not known for {name}: no peak figure in app.ml.flops.PEAK_FP32"
