"""QLoRA: LoRA on a base whose linear weights are stored in 4-bit NormalFloat (NF4), beside LoRA on
the full-precision base."""

from __future__ import annotations

import copy
from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from app.demos.recipes import BASE_MODEL
from app.ml import charlm
from app.ml.charlm import eval_batch_a, eval_loss, layer
from app.ml.memory import bits_per_param
from app.ml.nf4 import NF4Linear, quantize_linears, stored_bytes
from app.training._adapt import (
    PROMPT,
    SAMPLE_CHARS,
    count_facts,
    train_series,
    with_lora,
)

if TYPE_CHECKING:
    from app.demos.base import Control, Point
    from app.demos.qlora import Params
    from app.ml.charlm import CharLM


QUANTIZED = ("attn_qkv", "attn_out", "mlp_in", "mlp_out")


def train(p: Params, ctl: Control[Params]) -> Generator[list[Point], None, dict[str, Any]]:
    base = charlm.load_model(ctl.artifact(BASE_MODEL))
    nf4_base = copy.deepcopy(base)
    names = charlm.layer_names(base, QUANTIZED)
    quantize_linears(nf4_base, names, p.blocksize, p.double_quant)
    facts = {
        "quant": {
            "type": "nf4",
            "blocksize": p.blocksize,
            "double_quant": p.double_quant,
            "bits_per_param": bits_per_param(p.blocksize, p.double_quant),
        },
        "base_memory_bytes": {"fp32": stored_bytes(base), "nf4": stored_bytes(nf4_base)},
        "quant_error": quant_error(base, nf4_base, names),
    }
    before_nf4 = charlm.generate(nf4_base, charlm.to_task_b(PROMPT), SAMPLE_CHARS)

    qlora, adapters = with_lora(nf4_base, p)
    models = {"qlora": qlora}
    if p.compare_lora:
        models["lora"], _ = with_lora(base, p)
    facts |= count_facts(base, models, adapters, p.rank)
    summary = yield from train_series(p, ctl, base, models, facts)
    summary["samples"]["before_nf4"] = before_nf4
    return summary


def quant_error(base: CharLM, nf4_base: CharLM, names: list[str]) -> dict[str, float]:
    """How far the NF4 weights are from the fp32 ones, and what that costs on task A."""

    gaps = [layer(base, n, nn.Linear).weight - layer(nf4_base, n, NF4Linear).dequantized_weight() for n in names]
    errors = torch.cat([gap.abs().flatten() for gap in gaps])
    x, y = eval_batch_a()
    return {
        "mean_abs": errors.mean().item(),
        "max_abs": errors.max().item(),
        "task_a_loss_fp32": eval_loss(base, x, y),
        "task_a_loss_nf4": eval_loss(nf4_base, x, y),
    }
