"""NF4: 4-bit NormalFloat quantization of frozen weights (Dettmers et al. 2023, arXiv:2305.14314).

Weights of a trained layer are roughly normal, so the 16 levels sit at quantiles of N(0, 1):
each level then gets about the same share of the weights. Weights are cut into blocks of
`blocksize`; each block is divided by its absmax (so it lies in [-1, 1]) and every weight is
stored as the 4-bit code of its nearest level, two codes per byte. Double quantization then
stores the fp32 absmax values themselves in 8 bits.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

# 1 - (1/(2*16) + 1/(2*15)) / 2: the outermost quantile, between the ends of a 16- and a 15-bin
# grid; the two halves use 8 and 7 levels so that 0 is a level exactly (padding, ReLU zeros).
NF4_OFFSET = 0.9677083


def nf4_levels(offset: float = NF4_OFFSET) -> Tensor:
    """The 16 NF4 levels, sorted, in [-1, 1], as bitsandbytes' create_normal_map builds them:
    8 positive quantiles from linspace(offset, 0.5, 9)[:-1], 7 negative ones from
    linspace(offset, 0.5, 8)[:-1], plus 0, all divided by the largest."""
    normal = torch.distributions.Normal(torch.tensor(0.0, dtype=torch.float64), torch.tensor(1.0, dtype=torch.float64))
    # bitsandbytes takes the probabilities in float32 and the quantiles in float64; so do we,
    # which reproduces its table bit for bit.
    positive = normal.icdf(torch.linspace(offset, 0.5, 9)[:-1].double())
    negative = -normal.icdf(torch.linspace(offset, 0.5, 8)[:-1].double())
    levels = torch.cat([negative, torch.zeros(1, dtype=torch.float64), positive]).float().sort().values
    return levels / levels.max()


NF4 = nf4_levels()


def pack(codes: Tensor) -> Tensor:
    """Two 4-bit codes per uint8, the first in the high nibble (as bitsandbytes). An odd count
    gets a zero nibble in the low half of its last byte; unpack(packed, n) drops it."""
    if codes.numel() and not 0 <= int(codes.min()) <= int(codes.max()) <= 15:
        raise ValueError("4-bit codes must lie in 0..15")
    c = codes.flatten().to(torch.uint8)
    if c.numel() % 2:
        c = torch.cat([c, c.new_zeros(1)])
    return (c[0::2] << 4) | c[1::2]


def unpack(packed: Tensor, n: int) -> Tensor:
    """The first n codes (uint8, 0..15) stored in packed."""
    return torch.stack([packed >> 4, packed & 0x0F], dim=1).flatten()[:n]


def _blocks(x: Tensor, blocksize: int) -> Tensor:
    """x flattened and zero-padded to whole blocks: (n_blocks, blocksize)."""
    flat = x.flatten()
    return F.pad(flat, (0, -flat.numel() % blocksize)).view(-1, blocksize)


def quantize(w: Tensor, blocksize: int = 64) -> tuple[Tensor, Tensor]:
    """w -> (packed codes, absmax): one fp32 absmax per block of `blocksize` weights (the last
    block zero-padded), one 4-bit code per weight (the nearest NF4 level to w / absmax)."""
    blocks = _blocks(w.detach().float(), blocksize)
    absmax = blocks.abs().amax(dim=1)
    x = blocks / absmax.clamp_min(torch.finfo(torch.float32).tiny)[:, None]  # in [-1, 1]; 0/0 avoided
    levels = NF4.to(w.device)
    codes = torch.bucketize(x, (levels[1:] + levels[:-1]) / 2)  # midpoints split the nearest-level cells
    return pack(codes), absmax


def dequantize(packed: Tensor, absmax: Tensor, shape: torch.Size | tuple[int, ...], blocksize: int = 64) -> Tensor:
    n = absmax.numel() * blocksize
    x = NF4.to(packed.device)[unpack(packed, n).long()].view(-1, blocksize)
    return (x * absmax[:, None]).flatten()[: torch.Size(shape).numel()].view(shape)


def quantize_absmax(absmax: Tensor, blocksize: int = 256) -> tuple[Tensor, Tensor, Tensor]:
    """Double quantization of the block scales: absmax -> (q int8, scale fp32, mean fp32).

    The scheme (QLoRA's, with a linear int8 code where bitsandbytes uses its 8-bit dynamic map;
    same storage):  mean = mean(absmax);  c = absmax - mean (centred, so symmetric int8 fits);
    per block of `blocksize` values s = max|c| / 127 (fp32, one per block) and
    q = round(c / s) in [-127, 127]. Decoding is q * s + mean, off by at most s / 2 per value.
    """
    mean = absmax.mean()
    blocks = _blocks(absmax - mean, blocksize)
    scale = blocks.abs().amax(dim=1) / 127
    q = torch.round(blocks / scale.clamp_min(torch.finfo(torch.float32).tiny)[:, None])
    return q.to(torch.int8).flatten()[: absmax.numel()], scale, mean


def dequantize_absmax(q: Tensor, scale: Tensor, mean: Tensor, blocksize: int = 256) -> Tensor:
    return (_blocks(q.float(), blocksize) * scale[:, None]).flatten()[: q.numel()] + mean


class NF4Linear(nn.Module):
    """A frozen linear layer stored in NF4; the fp32 weight exists only inside forward."""

    # Buffers, registered in __init__ (typed here: nn.Module's attribute lookup cannot say).
    codes: Tensor
    absmax: Tensor
    absmax_q: Tensor
    absmax_scale: Tensor
    absmax_mean: Tensor
    bias: Tensor | None

    def __init__(self, linear: nn.Linear, blocksize: int = 64, double_quant: bool = True) -> None:
        super().__init__()
        self.in_features, self.out_features = linear.in_features, linear.out_features
        self.blocksize, self.double_quant = blocksize, double_quant
        codes, absmax = quantize(linear.weight, blocksize)
        self.register_buffer("codes", codes)
        if double_quant:
            q, scale, mean = quantize_absmax(absmax)
            self.register_buffer("absmax_q", q)
            self.register_buffer("absmax_scale", scale)
            self.register_buffer("absmax_mean", mean)
        else:
            self.register_buffer("absmax", absmax)
        self.register_buffer("bias", None if linear.bias is None else linear.bias.detach().clone())

    def dequantized_weight(self) -> Tensor:
        """The dequantized weight (out_features, in_features), in fp32."""
        if self.double_quant:
            absmax = dequantize_absmax(self.absmax_q, self.absmax_scale, self.absmax_mean)
        else:
            absmax = self.absmax
        return dequantize(self.codes, absmax, (self.out_features, self.in_features), self.blocksize)

    def forward(self, x: Tensor) -> Tensor:
        return F.linear(x, self.dequantized_weight(), self.bias)


def quantize_linears(model: nn.Module, names: list[str], blocksize: int = 64, double_quant: bool = True) -> None:
    """Replace each named nn.Linear of model by its NF4Linear, in place."""
    for name in names:
        linear = model.get_submodule(name)
        if not isinstance(linear, nn.Linear):
            raise TypeError(f"{name} is a {type(linear).__name__}, not an nn.Linear")
        model.set_submodule(name, NF4Linear(linear, blocksize, double_quant))


def stored_bytes(model: nn.Module) -> int:
    """Bytes of every tensor the model keeps: parameters and buffers."""
    tensors = [*model.parameters(), *model.buffers()]
    return sum(t.numel() * t.element_size() for t in tensors)
