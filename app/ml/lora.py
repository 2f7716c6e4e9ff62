"""LoRA (Hu et al. 2021, arXiv:2106.09685): learn a low-rank update beside a frozen linear layer.

    h = W0 x + b + (alpha / r) * B A dropout(x)       A: (r, d_in), B: (d_out, r)

A starts like nn.Linear's own weight (kaiming_uniform_, a=sqrt(5)) and B at zero, as in PEFT,
so the adapted model starts exactly equal to the base. rsLoRA (Kalajdzievski 2023,
arXiv:2312.03732) scales by alpha / sqrt(r) instead, so larger ranks keep learning.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import torch
from torch import Tensor, nn

from app.ml.nf4 import NF4Linear


class LoRALinear(nn.Module):
    def __init__(
        self,
        base: nn.Linear | NF4Linear,
        r: int,
        alpha: float,
        *,
        use_rslora: bool = False,
        dropout: float = 0.0,
        generator: torch.Generator | None = None,
    ) -> None:
        """base: the frozen layer, an nn.Linear or (QLoRA) an NF4Linear."""
        super().__init__()
        if r < 1:
            raise ValueError(f"LoRA rank must be >= 1, got {r}")
        self.base = base.requires_grad_(False)
        self.in_features, self.out_features = base.in_features, base.out_features
        self.r = r
        self.scaling = alpha / math.sqrt(r) if use_rslora else alpha / r
        self.A = nn.Parameter(torch.empty(r, self.in_features))
        self.B = nn.Parameter(torch.zeros(self.out_features, r))
        nn.init.kaiming_uniform_(self.A, a=math.sqrt(5), generator=generator)
        # Dropout on the adapter's input only: the frozen path sees x unchanged.
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.merged = False

    def delta_weight(self) -> Tensor:
        """The update this adapter adds to W0: (alpha/r) B A, shape (d_out, d_in), rank <= r."""
        return self.scaling * (self.B @ self.A)

    def forward(self, x: Tensor) -> Tensor:
        h = self.base(x)
        if self.merged:
            return h
        # x A^T B^T costs r (d_in + d_out) per row; forming B A first would cost d_in d_out.
        return h + self.scaling * (self.dropout(x) @ self.A.T @ self.B.T)

    @torch.no_grad()
    def merge(self) -> None:
        """Fold the update into W0, so inference pays nothing for the adapter."""
        if not self.merged:
            self._linear_base().weight += self.delta_weight()
            self.merged = True

    @torch.no_grad()
    def unmerge(self) -> None:
        if self.merged:
            self._linear_base().weight -= self.delta_weight()
            self.merged = False

    def _linear_base(self) -> nn.Linear:
        # Merging into a quantized base would mean re-quantizing W0 + BA, losing the update.
        if not isinstance(self.base, nn.Linear):
            raise TypeError(f"can only merge into nn.Linear, not {type(self.base).__name__}")
        return self.base


def add_lora(
    model: nn.Module,
    names: Iterable[str],
    r: int,
    alpha: float,
    *,
    use_rslora: bool = False,
    dropout: float = 0.0,
    generator: torch.Generator | None = None,
) -> dict[str, LoRALinear]:
    """Freeze the whole model, then replace each named layer by a LoRALinear around it.

    Pass a seeded generator to make the A matrices the same in every model adapted this way.
    """
    model.requires_grad_(False)
    adapters = {}
    for name in names:
        base = model.get_submodule(name)
        if not isinstance(base, nn.Linear | NF4Linear):
            raise TypeError(f"{name} is a {type(base).__name__}: LoRA adapts an nn.Linear or an NF4Linear")
        adapters[name] = LoRALinear(base, r, alpha, use_rslora=use_rslora, dropout=dropout, generator=generator)
        model.set_submodule(name, adapters[name])
    return adapters


def count_trainable(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
