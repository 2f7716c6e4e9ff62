"""QLoRA playground: the LoRA playground's adapters, trained on a base stored in 4-bit NF4.

The base's transformer blocks are quantized (as in QLoRA, every linear layer of the blocks;
embeddings, norms and the output head stay in full precision, as PEFT and bitsandbytes leave
the head). Gradients flow through the dequantized weights into fp32 adapters. With
compare_lora, plain LoRA on the full-precision base runs beside it as series "lora".
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field

from app.demos._adapt import (
    PROMPT,
    SAMPLE_CHARS,
    AdaptParams,
    count_facts,
    train_series,
    with_lora,
)
from app.demos._charlm import BASE_MODEL
from app.demos.base import Chart, Control, Demo, Point

if TYPE_CHECKING:
    from app.ml.charlm import CharLM

QUANTIZED = ("attn_qkv", "attn_out", "mlp_in", "mlp_out")


class Params(AdaptParams):
    steps: int = Field(250, ge=1, le=2000)
    blocksize: Literal[32, 64, 128, 256] = Field(64, description="Weights that share one absmax scale.")
    double_quant: bool = Field(True, description="Store the absmax scales in 8 bits as well.")
    compare_lora: bool = Field(True, description="Also train LoRA on the full-precision base (series 'lora').")


def train(p: Params, ctl: Control) -> Generator[list[Point], None, dict[str, Any]]:
    import copy

    from app.ml import charlm
    from app.ml.memory import bits_per_param
    from app.ml.nf4 import quantize_linears, stored_bytes

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
    import torch

    from app.ml.charlm import eval_batch_a, eval_loss

    errors = torch.cat(
        [(base.get_submodule(n).weight - nf4_base.get_submodule(n).dequantized_weight()).abs().flatten() for n in names]
    )
    x, y = eval_batch_a()
    return {
        "mean_abs": errors.mean().item(),
        "max_abs": errors.max().item(),
        "task_a_loss_fp32": eval_loss(base, x, y),
        "task_a_loss_nf4": eval_loss(nf4_base, x, y),
    }


DEMO = Demo(
    name="qlora",
    title="QLoRA: LoRA on a 4-bit base",
    terms=("qlora",),
    Params=Params,
    train=train,
    live=frozenset({"lr", "pace"}),
    artifacts=(BASE_MODEL,),
    charts=(Chart("Task B loss", ("loss",), log_y=True), Chart("Task A loss (forgetting)", ("loss_a",))),
    blurb="The same leetspeak adaptation, with the frozen base stored in 4-bit NormalFloat: "
    "under a quarter of its fp32 memory, with the adapters still in full precision.",
)
