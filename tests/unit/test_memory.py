"""The memory calculator's arithmetic against hand-computed numbers."""

from __future__ import annotations

import pytest

from app.ml.memory import ADAPTER_BYTES, estimate, weight_bits


def test_weight_bits_per_format() -> None:
    assert weight_bits("fp32") == 32 and weight_bits("bf16") == 16 and weight_bits("int8") == 8
    assert weight_bits("nf4") == 4.5  # 4 + 32/64
    assert weight_bits("nf4-dq") == pytest.approx(4.126953125)  # 4 + 8/64 + 32/(64*256)


def test_seven_billion_in_nf4_with_double_quantization() -> None:
    # Llama-2-7B shapes: hidden 4096, 32 layers; r = 16 on q, k, v, o.
    result = estimate(7, "nf4-dq", hidden=4096, layers=32, rank=16, matrices_per_layer=4)
    assert result.base_bytes == pytest.approx(7e9 * 4.126953125 / 8)  # ~3.61 GB
    assert result.lora_params == 32 * 4 * 16 * (4096 + 4096) == 16_777_216
    assert result.adapter_bytes == 16_777_216 * ADAPTER_BYTES
    assert result.total_bytes / 1e9 == pytest.approx(3.611 + 0.2013, abs=1e-3)
    assert result.full_finetune_bytes == 7e9 * 16


def test_seventy_billion_bf16_base() -> None:
    result = estimate(70, "bf16", hidden=8192, layers=80, rank=8, matrices_per_layer=2)
    assert result.base_bytes == 140e9
    assert result.lora_params == 80 * 2 * 8 * 16384
