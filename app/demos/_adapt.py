"""What the LoRA and QLoRA playgrounds share: their common params and one training loop.

Not a demo (no DEMO). The web process imports it for the params schemas, so like a demo module
it imports torch and app.ml only inside functions.

Both playgrounds adapt the same tiny character model, pretrained on English (task A), to the
same text in leetspeak (task B). Every series of a run sees the same batches, step by step.
Forgetting is measured on task A's text: `loss_a` on every character, `loss_a_kept` on those
leetspeak leaves as they are (on a, e, i, o task B asks for a digit, so loss_a rises by design).
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, field_validator

from app.demos.base import Control, DemoParams, Point, log_slider, pace_field

if TYPE_CHECKING:
    import torch

    from app.ml.charlm import CharLM
    from app.ml.lora import LoRALinear

Target = Literal["attn_qkv", "attn_out", "mlp_in", "mlp_out", "head"]

BATCH_SIZE = 16  # task-B windows of 64 characters per step
EVAL_EVERY = 10  # steps between task-A evaluations; the points in between carry the last value
PROMPT = "LoRA freezes"  # sampled in task B's style: "L0R4 fr33z3s"
SAMPLE_CHARS = 100


class AdaptParams(DemoParams):
    rank: int = Field(4, ge=1, le=64, description="r: the rank of each update B·A.")
    alpha: float = Field(8.0, gt=0, le=1024, description="α: the update B·A is scaled by α / r.")
    targets: list[Target] = Field(
        ["attn_qkv", "attn_out", "mlp_in", "mlp_out"],
        min_length=1,
        json_schema_extra={"uniqueItems": True},
        description="Layer groups that get an adapter (each at most once).",
    )
    lr: float = Field(5e-3, gt=0, le=1.0, description="Adam learning rate.", json_schema_extra=log_slider(1e-5))
    steps: int = Field(500, ge=1, le=2000)
    pace: float = pace_field(0.0)
    seed: int = Field(0, ge=0, le=2**31 - 1)

    @field_validator("targets")
    @classmethod
    def _targets_unique(cls, targets: list[str]) -> list[str]:
        if len(set(targets)) != len(targets):
            raise ValueError("each layer group may be named only once")
        return targets


def with_lora(base: CharLM, p: AdaptParams, **lora_options: Any) -> tuple[CharLM, dict[str, LoRALinear]]:
    """A copy of base with adapters on the target groups. A comes from a generator seeded with
    p.seed, so two series of one run start from the same adapters."""
    import copy

    import torch

    from app.ml.charlm import layer_names
    from app.ml.lora import add_lora

    model = copy.deepcopy(base)
    names = layer_names(model, p.targets)
    generator = torch.Generator().manual_seed(p.seed)
    return model, add_lora(model, names, p.rank, p.alpha, generator=generator, **lora_options)


def count_facts(base: CharLM, models: dict[str, CharLM], adapters: dict[str, LoRALinear], rank: int) -> dict:
    """Parameter counts for the start event. Like PEFT's print_trainable_parameters, the total
    counts the base and the adapters, and the fraction is adapter parameters over that total."""
    from app.ml.lora import count_trainable

    n_lora = sum(a.A.numel() + a.B.numel() for a in adapters.values())
    total = sum(q.numel() for q in base.parameters()) + n_lora
    return {
        "total_params": total,
        "trainable_params": {name: count_trainable(m) for name, m in models.items()},
        "trainable_fraction": n_lora / total,
        "rank": rank,
        "adapted_layers": [{"name": n, "d_in": a.in_features, "d_out": a.out_features} for n, a in adapters.items()],
    }


def adam_state_bytes(opt: torch.optim.Optimizer) -> int:
    """Bytes of Adam's two moment buffers (exp_avg, exp_avg_sq) as allocated by a real step;
    the scalar step counters (one per tensor) are left out."""
    return sum(s[k].numel() * s[k].element_size() for s in opt.state.values() for k in ("exp_avg", "exp_avg_sq"))


def train_step(model: CharLM, opt: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor, lr: float) -> float:
    """One Adam step on a batch at the current (live) lr; returns the loss before the update."""
    from app.ml.charlm import lm_loss

    for group in opt.param_groups:
        group["lr"] = lr
    loss = lm_loss(model, x, y)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    return loss.item()


def train_series(
    p: AdaptParams, ctl: Control, base: CharLM, models: dict[str, CharLM], facts: dict[str, Any]
) -> Generator[list[Point], None, dict[str, Any]]:
    """Train every model of `models` (one series each) on task B, interleaved step by step.

    Announces `facts` plus the optimizer state measured after step 0, yields one point per
    series per step, and returns the summary: greedy samples of the base and of each series.
    """
    import torch

    from app.ml import charlm

    device = torch.device(ctl.device)
    torch.manual_seed(p.seed)  # dropout masks
    batches = torch.Generator().manual_seed(p.seed)
    data_b = charlm.VOCAB.encode(charlm.TEXT_B)
    x_a, y_a = (t.to(device) for t in charlm.eval_batch_a())
    kept_a = charlm.kept_in_task_b(y_a.cpu()).to(device)
    prompt = charlm.to_task_b(PROMPT)
    before = charlm.generate(base.to(device), prompt, SAMPLE_CHARS)

    opts = {}
    for name, model in models.items():
        model.to(device).train()
        opts[name] = torch.optim.Adam([q for q in model.parameters() if q.requires_grad], lr=p.lr)

    loss_a: dict[str, dict[str, float]] = {}
    points: list[Point] = []
    for step in range(p.steps):
        lr = ctl.params.lr
        x, y = (t.to(device) for t in charlm.random_batch(data_b, BATCH_SIZE, base.cfg.block_size, batches))
        points = []
        for name, model in models.items():
            if step % EVAL_EVERY == 0 or step == p.steps - 1:
                loss_a[name] = {  # before this step's update, like `loss`
                    "loss_a": charlm.eval_loss(model, x_a, y_a),
                    "loss_a_kept": charlm.eval_loss(model, x_a, y_a, kept_a),
                }
            loss = train_step(model, opts[name], x, y, lr)
            points.append({"step": step, "series": name, "loss": loss, **loss_a[name], "lr": lr})
        if step == 0:
            ctl.announce(**facts, optimizer_state_bytes={name: adam_state_bytes(o) for name, o in opts.items()})
        yield points

    after = {name: charlm.generate(model, prompt, SAMPLE_CHARS) for name, model in models.items()}
    return {
        "samples": {"prompt": prompt, "before": before, "after": after},
        "final": {q["series"]: {k: q[k] for k in ("loss", "loss_a", "loss_a_kept")} for q in points},
    }
