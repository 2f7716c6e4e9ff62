"""NF4 quantization against the published table and brute-force recomputation."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from app.ml.memory import bits_per_param
from app.ml.nf4 import (
    NF4,
    NF4Linear,
    dequantize,
    dequantize_absmax,
    nf4_levels,
    pack,
    quantize,
    quantize_absmax,
    stored_bytes,
    unpack,
)

torch.set_num_threads(1)

# bitsandbytes' NF4 code (QLoRA paper, appendix E).
PUBLISHED = torch.tensor(
    [
        -1.0,
        -0.6961928009986877,
        -0.5250730514526367,
        -0.39491748809814453,
        -0.28444138169288635,
        -0.18477343022823334,
        -0.09105003625154495,
        0.0,
        0.07958029955625534,
        0.16093020141124725,
        0.24611230194568634,
        0.33791524171829224,
        0.44070982933044434,
        0.5626170039176941,
        0.7229568362236023,
        1.0,
    ]
)
HALF_WIDEST_GAP = (PUBLISHED[1:] - PUBLISHED[:-1]).max().item() / 2


def test_levels_from_the_formula_equal_the_published_table() -> None:
    levels = nf4_levels()
    assert levels.shape == (16,)
    torch.testing.assert_close(levels, PUBLISHED, atol=1e-7, rtol=0)
    torch.testing.assert_close(NF4, PUBLISHED, atol=1e-7, rtol=0)


def test_levels_depend_on_the_offset() -> None:
    # Guards against a table pasted in place of the formula.
    assert not torch.allclose(nf4_levels(offset=0.99), PUBLISHED, atol=1e-3)


@pytest.mark.parametrize(("shape", "blocksize"), [((48, 64), 64), ((1000,), 64), ((7, 33), 32), ((3, 256), 128)])
def test_round_trip_error_within_half_the_widest_gap(shape: tuple[int, ...], blocksize: int) -> None:
    torch.manual_seed(0)
    w = torch.randn(shape) * 0.02
    w.view(-1)[5] = 0.3  # an outlier: its block's absmax is large
    packed, absmax = quantize(w, blocksize)
    restored = dequantize(packed, absmax, w.shape, blocksize)
    assert restored.shape == w.shape

    flat = w.flatten()
    n_blocks = -(-flat.numel() // blocksize)
    assert absmax.shape == (n_blocks,)
    block_absmax = torch.stack([flat[i * blocksize : (i + 1) * blocksize].abs().max() for i in range(n_blocks)])
    torch.testing.assert_close(absmax, block_absmax, atol=0, rtol=0)
    bound = HALF_WIDEST_GAP * block_absmax.repeat_interleave(blocksize)[: flat.numel()]
    assert torch.all((flat - restored.flatten()).abs() <= bound + 1e-8)


def test_codes_are_the_nearest_level() -> None:
    torch.manual_seed(1)
    w = torch.randn(640)
    packed, absmax = quantize(w, 64)
    x = w.view(-1, 64) / absmax[:, None]
    nearest = (x[..., None] - PUBLISHED).abs().argmin(dim=-1).flatten()
    assert torch.equal(unpack(packed, 640).long(), nearest)


def test_zero_block_stays_zero() -> None:
    w = torch.zeros(2, 64)
    w[1] = torch.linspace(-1, 1, 64)
    packed, absmax = quantize(w, 64)
    restored = dequantize(packed, absmax, w.shape, 64)
    assert torch.equal(restored[0], torch.zeros(64))
    assert torch.isfinite(restored).all()


@pytest.mark.parametrize("n", [1, 2, 7, 8, 1001])
def test_pack_unpack_round_trip(n: int) -> None:
    codes = torch.randint(16, (n,), generator=torch.Generator().manual_seed(n), dtype=torch.uint8)
    packed = pack(codes)
    assert packed.dtype == torch.uint8
    assert packed.numel() == (n + 1) // 2
    assert torch.equal(unpack(packed, n), codes)


def test_pack_puts_the_first_code_in_the_high_nibble() -> None:
    assert pack(torch.tensor([1, 2, 15, 0])).tolist() == [0x12, 0xF0]
    assert pack(torch.tensor([9])).tolist() == [0x90]


def test_pack_refuses_codes_outside_4_bits() -> None:
    with pytest.raises(ValueError):
        pack(torch.tensor([3, 16]))


@pytest.mark.parametrize("n", [100, 256, 700])
def test_double_quant_round_trip_within_the_int8_bound(n: int) -> None:
    torch.manual_seed(n)
    absmax = torch.rand(n) * 0.1 + 0.01
    q, scale, mean = quantize_absmax(absmax, 256)
    assert q.dtype == torch.int8 and q.shape == (n,)
    assert int(q.abs().max()) <= 127
    assert scale.dtype == torch.float32 and scale.shape == (-(-n // 256),)
    torch.testing.assert_close(mean, absmax.mean())
    restored = dequantize_absmax(q, scale, mean, 256)

    centred = absmax - absmax.mean()
    for i in range(0, n, 256):
        step = centred[i : i + 256].abs().max() / 127  # one int8 step of this block
        assert torch.all((restored[i : i + 256] - absmax[i : i + 256]).abs() <= step / 2 + 1e-7)


@pytest.mark.parametrize(
    ("blocksize", "double_quant", "bits"),
    [
        (32, False, 5.0),  # 4 + 32/32
        (64, False, 4.5),  # 4 + 32/64
        (128, False, 4.25),  # 4 + 32/128
        (32, True, 4.25390625),  # 4 + 8/32 + 32/8192
        (64, True, 4.126953125),  # 4 + 8/64 + 32/16384
        (128, True, 4.0634765625),  # 4 + 8/128 + 32/32768
    ],
)
def test_bits_per_param(blocksize: int, double_quant: bool, bits: float) -> None:
    assert bits_per_param(blocksize, double_quant) == bits


@pytest.mark.parametrize("double_quant", [False, True])
def test_nf4_linear(double_quant: bool) -> None:
    torch.manual_seed(0)
    linear = nn.Linear(64, 192)
    layer = NF4Linear(linear, blocksize=64, double_quant=double_quant)
    x = torch.randn(5, 64)
    w = layer.dequantized_weight()
    torch.testing.assert_close(layer(x), F.linear(x, w, linear.bias))
    err = (w - linear.weight).abs()
    assert 0 < err.mean() < 0.1 * linear.weight.abs().mean()
    assert err.max() <= HALF_WIDEST_GAP * linear.weight.abs().max() * 1.01

    # Stored bytes by hand: 12288 codes in 6144 bytes, 192 block scales, a 192-float bias.
    scales = 192 + 4 + 4 if double_quant else 192 * 4  # int8s + one fp32 scale + fp32 mean, or fp32s
    assert stored_bytes(layer) == 6144 + scales + 192 * 4
    assert not list(layer.parameters())
