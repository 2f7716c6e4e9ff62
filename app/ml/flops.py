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
"""

from __future__ import annotations

from torch import nn

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
