"""LoRALinear against independent computations of h = W0 x + b + s B A x."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from app.ml.charlm import CharLM, CharLMConfig, layer_names, lm_loss
from app.ml.lora import LoRALinear, add_lora, count_trainable
from app.ml.nf4 import NF4Linear

torch.set_num_threads(1)


def make_linear(d_in: int = 16, d_out: int = 24, seed: int = 0) -> nn.Linear:
    torch.manual_seed(seed)
    return nn.Linear(d_in, d_out)


def small_model() -> CharLM:
    torch.manual_seed(0)
    return CharLM(CharLMConfig(vocab_size=11, block_size=8, n_layer=2, n_head=2, d_model=16))


def test_init_output_equals_base_exactly() -> None:
    linear = make_linear()
    x = torch.randn(5, 16)
    expected = linear(x).detach()
    lora = LoRALinear(linear, r=4, alpha=8.0)
    assert torch.equal(lora.B, torch.zeros(24, 4))
    assert torch.equal(lora(x), expected)


def test_adapted_model_starts_equal_to_base() -> None:
    model = small_model()
    idx = torch.randint(11, (3, 8))
    expected = model(idx).detach()
    add_lora(model, layer_names(model, ("attn_qkv", "attn_out", "mlp_in", "mlp_out", "head")), r=2, alpha=4.0)
    assert torch.equal(model(idx), expected)


def test_a_init_is_kaiming_uniform_with_a_sqrt5() -> None:
    # kaiming_uniform_(a=sqrt(5)): gain sqrt(2 / (1 + 5)), bound gain * sqrt(3 / fan_in) = 1 / sqrt(fan_in).
    lora = LoRALinear(make_linear(d_in=400, d_out=3), r=64, alpha=1.0, generator=torch.Generator().manual_seed(0))
    bound = 1 / math.sqrt(400)
    assert lora.A.abs().max() <= bound
    assert lora.A.abs().max() > 0.95 * bound  # 25600 draws reach close to the edge
    assert abs(lora.A.var().item() - bound**2 / 3) < 0.05 * bound**2 / 3  # variance of U(-b, b)


def test_forward_matches_formula() -> None:
    linear = make_linear()
    lora = LoRALinear(linear, r=3, alpha=6.0)
    nn.init.normal_(lora.B)
    x = torch.randn(7, 16)
    W0, b, A, B = linear.weight, linear.bias, lora.A, lora.B
    expected = x @ W0.T + b + (6.0 / 3) * (x @ (B @ A).T)
    torch.testing.assert_close(lora(x), expected, atol=1e-5, rtol=1e-5)


def test_merge_equals_unmerged_and_unmerge_restores() -> None:
    linear = make_linear()
    w0 = linear.weight.detach().clone()
    lora = LoRALinear(linear, r=4, alpha=8.0)
    nn.init.normal_(lora.B)
    x = torch.randn(9, 16)
    unmerged = lora(x).detach()
    lora.merge()
    assert lora.merged
    torch.testing.assert_close(lora(x), unmerged, atol=1e-6, rtol=0)
    lora.unmerge()
    torch.testing.assert_close(linear.weight, w0, atol=1e-6, rtol=0)
    torch.testing.assert_close(lora(x), unmerged, atol=1e-6, rtol=0)


def test_merge_refuses_a_quantized_base() -> None:
    lora = LoRALinear(NF4Linear(make_linear(d_in=64, d_out=8)), r=2, alpha=2.0)
    with pytest.raises(TypeError):
        lora.merge()


def test_only_a_and_b_get_gradients() -> None:
    model = small_model()
    add_lora(model, layer_names(model, ("attn_qkv", "mlp_out")), r=2, alpha=4.0)
    for m in model.modules():
        if isinstance(m, LoRALinear):
            nn.init.normal_(m.B)  # else A's gradient is exactly zero and the test proves less
    idx = torch.randint(11, (4, 8))
    lm_loss(model, idx, torch.randint(11, (4, 8))).backward()
    for name, param in model.named_parameters():
        if name.endswith((".A", ".B")):
            assert param.grad is not None and param.grad.abs().sum() > 0, name
        else:
            assert param.grad is None, name


def test_trainable_count_is_r_times_din_plus_dout() -> None:
    model = small_model()
    r = 3
    names = layer_names(model, ("attn_qkv", "mlp_in", "head"))
    shapes = [(model.get_submodule(n).in_features, model.get_submodule(n).out_features) for n in names]
    add_lora(model, names, r=r, alpha=1.0)
    assert len(names) == 2 + 2 + 1
    assert count_trainable(model) == sum(r * (d_in + d_out) for d_in, d_out in shapes)
    # By hand for d=16, 4d=64, vocab 11: 2 * 3 * (16 + 48) + 2 * 3 * (16 + 64) + 3 * (16 + 11)
    assert count_trainable(model) == 384 + 480 + 81


@pytest.mark.parametrize("r", [1, 4, 16])
def test_scaling_plain_and_rslora(r: int) -> None:
    assert LoRALinear(make_linear(), r=r, alpha=8.0).scaling == pytest.approx(8.0 / r)
    rs = LoRALinear(make_linear(), r=r, alpha=8.0, use_rslora=True)
    assert rs.scaling == pytest.approx(8.0 / math.sqrt(r))
    nn.init.normal_(rs.B)
    x = torch.randn(2, 16)
    expected = rs.base(x) + 8.0 / math.sqrt(r) * (x @ rs.A.T @ rs.B.T)
    torch.testing.assert_close(rs(x), expected, atol=1e-5, rtol=1e-5)


def test_dropout_only_in_train_mode() -> None:
    torch.manual_seed(0)
    lora = LoRALinear(make_linear(), r=4, alpha=8.0, dropout=0.5)
    nn.init.normal_(lora.B)
    x = torch.randn(32, 16)
    no_dropout = lora.base(x) + lora.scaling * (x @ lora.A.T @ lora.B.T)

    lora.eval()
    torch.testing.assert_close(lora(x), no_dropout)
    torch.testing.assert_close(lora(x), lora(x))

    lora.train()
    y1, y2 = lora(x), lora(x)
    assert not torch.allclose(y1, no_dropout)
    assert not torch.allclose(y1, y2)
    # Only the adapter path is dropped: with B = 0 the frozen path passes x unchanged.
    nn.init.zeros_(lora.B)
    assert torch.equal(lora(x), lora.base(x))


def test_rank_zero_is_refused() -> None:
    with pytest.raises(ValueError):
        LoRALinear(make_linear(), r=0, alpha=1.0)


def test_the_update_has_rank_at_most_r() -> None:
    torch.manual_seed(0)
    layer = LoRALinear(nn.Linear(32, 24), r=3, alpha=6)
    with torch.no_grad():
        layer.B.normal_()
    sigma = torch.linalg.svdvals(layer.delta_weight())
    assert sigma[2] > 1e-3 and sigma[3:].max() < 1e-5 * sigma[0]
