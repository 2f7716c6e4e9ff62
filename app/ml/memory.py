"""Training-memory arithmetic for the QLoRA page's calculator: pure Python, no torch.

Counts what scales with parameters (weights, LoRA adapters, their gradients, Adam state) and
leaves out activations, which depend on batch size and sequence length.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

WeightFormat = Literal["fp32", "bf16", "int8", "nf4", "nf4-dq"]

ADAM_BYTES = 8  # two fp32 moments per trainable parameter
FULL_FINETUNE_BYTES = 16  # mixed precision: bf16 weight + bf16 grad + fp32 master + 2 fp32 moments
ADAPTER_BYTES = 2 + 2 + ADAM_BYTES  # bf16 adapter weight + bf16 grad + Adam moments (QLoRA recipe)


def bits_per_param(blocksize: int, double_quant: bool) -> float:
    """Stored bits per NF4 weight: a 4-bit code plus its block's share of the scales.

    Plain: one fp32 absmax per block, 4 + 32/blocksize. Double quantized: one int8 absmax per
    block and one fp32 scale per 256 blocks, 4 + 8/blocksize + 32/(256 blocksize). The one fp32
    mean per tensor is left out (it does not grow with the number of weights).
    """
    if double_quant:
        return 4 + 8 / blocksize + 32 / (256 * blocksize)
    return 4 + 32 / blocksize


def weight_bits(fmt: WeightFormat) -> float:
    """Bits per frozen base weight (int8: per-row scales ignored, they are ~0.01 bit)."""
    return {
        "fp32": 32.0,
        "bf16": 16.0,
        "int8": 8.0,
        "nf4": bits_per_param(64, False),
        "nf4-dq": bits_per_param(64, True),
    }[fmt]


@dataclass(frozen=True)
class MemoryEstimate:
    base_bytes: float
    lora_params: int
    adapter_bytes: float
    full_finetune_bytes: float

    @property
    def total_bytes(self) -> float:
        return self.base_bytes + self.adapter_bytes


def estimate(
    params_billion: float, fmt: WeightFormat, hidden: int, layers: int, rank: int, matrices_per_layer: int
) -> MemoryEstimate:
    """Memory for LoRA on a frozen base of `params_billion` stored as `fmt`.

    Each adapted matrix is taken as hidden x hidden (attention projections), so it adds
    rank * (hidden + hidden) trainable parameters.
    """
    n = params_billion * 1e9
    lora_params = layers * matrices_per_layer * rank * 2 * hidden
    return MemoryEstimate(
        base_bytes=n * weight_bits(fmt) / 8,
        lora_params=lora_params,
        adapter_bytes=lora_params * ADAPTER_BYTES,
        full_finetune_bytes=n * FULL_FINETUNE_BYTES,
    )
