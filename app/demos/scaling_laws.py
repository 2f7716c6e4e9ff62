"""Scaling laws: a sweep of model widths, the compute-efficient frontier, and a power law fitted to it.

Every width trains from scratch on the same text for the same token budget, with the same batches,
and is evaluated on held-out text at steps spaced evenly in log. The series are interleaved in
order of compute: each yield steps the model whose next step ends at the least cumulative compute,
so the held-out points arrive in increasing compute. A point then lies on the frontier (lower than
every point with no more compute) for good as soon as it arrives, and the fit can follow it.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Annotated, Any

from pydantic import AfterValidator, Field, field_validator, model_validator

from app.demos._adapt import train_step
from app.demos._compute import ComputeParams, tokens_per_step
from app.demos.base import Chart, Control, Demo, Point

EVALS = 16  # held-out evaluations per model, log-spaced in steps
VAL_WINDOWS = 32  # held-out sequences per evaluation: the same ones every time, for every model
MAX_STEPS = 2000  # per model

WIDTHS = (8, 16, 24, 32, 48, 64, 96, 128)


def _offered(width: int) -> int:
    if width not in WIDTHS:
        raise ValueError(f"must be one of {', '.join(map(str, WIDTHS))}")
    return width


# The enum makes the panel offer each width as a checkbox; the validator holds the API to the same list.
Width = Annotated[int, Field(ge=8, le=128, json_schema_extra={"enum": list(WIDTHS)}), AfterValidator(_offered)]


class Params(ComputeParams):
    widths: list[Width] = Field(
        [8, 16, 24, 32, 48, 64],
        min_length=3,
        max_length=6,
        json_schema_extra={"uniqueItems": True},
        title="Widths",
        description="d_model of each model in the sweep (3 to 6 of them).",
    )
    tokens: int = Field(
        80_000, ge=1_024, le=1_000_000, title="Token budget", description="Training tokens for every model."
    )
    seq_len: int = Field(32, ge=8, le=128, title="Sequence length", description="Characters per sequence (n_ctx).")

    @field_validator("widths")
    @classmethod
    def _distinct(cls, widths: list[int]) -> list[int]:
        if len(set(widths)) != len(widths):
            raise ValueError("each width may be named only once")
        return sorted(widths)

    @model_validator(mode="after")
    def _budget(self) -> Params:
        self.check_step_cost(max(self.widths))
        if not 2 <= steps_per_model(self) <= MAX_STEPS:
            raise ValueError(
                f"a token budget of {self.tokens} is {steps_per_model(self)} steps of {tokens_per_step(self)} tokens "
                f"(batch size × sequence length); it must come to 2 to {MAX_STEPS} steps per model"
            )
        return self


def steps_per_model(p: Params) -> int:
    return p.tokens // tokens_per_step(p)


def eval_steps(steps: int, evals: int = EVALS) -> set[int]:
    """Steps (counted from 1, after the update) spread evenly in log between 1 and `steps`."""
    return {round(steps ** (k / (evals - 1))) for k in range(evals)}


def train(p: Params, ctl: Control) -> Generator[list[Point], None, dict[str, Any]]:
    import torch

    from app.ml import flops, powerlaw
    from app.ml.charlm import eval_loss, fixed_batch, random_batch
    from app.ml.scaling import load_corpus, make_model

    device = torch.device(ctl.device)
    corpus = load_corpus()
    names = [f"d={w}" for w in p.widths]
    models = {
        name: make_model(len(corpus.vocab), w, p.depth, p.seq_len, p.seed).to(device).train()
        for name, w in zip(names, p.widths, strict=True)
    }
    n = {name: flops.non_embedding_params(m) for name, m in models.items()}
    opts = {name: torch.optim.Adam(m.parameters(), lr=p.lr) for name, m in models.items()}
    # Each model draws its own batches from an equally seeded generator: step s is the same batch for all.
    batches = {name: torch.Generator().manual_seed(p.seed) for name in names}
    x_val, y_val = (t.to(device) for t in fixed_batch(corpus.val, VAL_WINDOWS, p.seq_len))
    steps, batch_tokens = steps_per_model(p), tokens_per_step(p)
    at = eval_steps(steps)
    ctl.announce(
        models=[{"series": s, "width": w, "non_embedding_params": n[s]} for s, w in zip(names, p.widths, strict=True)],
        steps_per_model=steps,
        tokens_per_model=steps * batch_tokens,
        compute="flops = 6·N·tokens (Kaplan et al. 2020), N = parameters other than the embedding tables",
        held_out={"train_chars": len(corpus.train), "val_chars": len(corpus.val), "val_windows": VAL_WINDOWS},
        epochs_per_model=steps * batch_tokens / len(corpus.train),
        published=published_exponents(),
    )

    done = dict.fromkeys(names, 0)
    curves: dict[str, list[tuple[float, float]]] = {s: [] for s in names}
    frontier: list[dict[str, Any]] = []
    last_loss: dict[str, float] = {}
    fit = None
    for step in range(len(names) * steps):
        # The model whose next step ends at the least compute goes next.
        name = min((s for s in names if done[s] < steps), key=lambda s: n[s] * (done[s] + 1))
        x, y = (t.to(device) for t in random_batch(corpus.train, p.batch_size, p.seq_len, batches[name]))
        lr = ctl.params.lr
        last_loss[name] = train_step(models[name], opts[name], x, y, lr)
        done[name] += 1
        tokens = done[name] * batch_tokens
        c = flops.training_flops(n[name], tokens)
        point = {"step": step, "series": name, "loss": last_loss[name], "lr": lr, "tokens": tokens, "flops": c}
        points = [point]
        if done[name] in at:
            point["val_loss"] = val = eval_loss(models[name], x_val, y_val)
            curves[name].append((c, val))
            if not frontier or val < frontier[-1]["val_loss"]:  # c is the most compute so far
                frontier.append({"flops": c, "val_loss": val, "model": name, "params": n[name], "tokens": tokens})
                points.append({"step": step, "series": "frontier", "flops": c, "val_loss": val, "model": name})
                if len(frontier) >= 3:
                    fit = powerlaw.fit_power_law([f["flops"] for f in frontier], [f["val_loss"] for f in frontier])
                    points.append(fit_point(step, c, fit))
        yield points

    return summary(p, names, n, curves, frontier, fit, last_loss)


def fit_point(step: int, c: float, fit: Any) -> Point:
    """The latest fit's value at the compute just reached, with its parameters."""
    return {"step": step, "series": "fit", "flops": c, "val_loss": fit(c), "exponent": fit.b, "a": fit.a, "e": fit.e}


def summary(p: Params, names, n, curves, frontier, fit, last_loss) -> dict[str, Any]:
    from app.ml import powerlaw

    every = [pt for curve in curves.values() for pt in curve]
    levels = powerlaw.log_levels(min(c for c, _ in every), max(c for c, _ in every))
    best = []
    for row in powerlaw.best_per_level(curves, levels):
        params = n[row["best"]]
        tokens = row["flops"] / (6 * params)  # what that model had trained on at this compute
        best.append(row | {"params": params, "tokens": tokens, "tokens_per_param": tokens / params})
    return {
        "fit": None if fit is None else fit.as_dict() | {"irreducible": fit.e > 0, "points": len(frontier)},
        "best_per_compute": best,
        "frontier": frontier,
        "models": {
            s: {"params": n[s], "train_loss": last_loss[s], "val_loss": curves[s][-1][1], "flops": curves[s][-1][0]}
            for s in names
        },
        "published": published_exponents(),
    }


def published_exponents() -> dict[str, float]:
    """The compute exponents of the published fits, to set beside the fitted one."""
    from app.ml import powerlaw

    return {
        "kaplan_2020_alpha_c_min": powerlaw.KAPLAN_2020["alpha_C_min"],
        "hoffmann_2022": powerlaw.loss_exponent(powerlaw.HOFFMANN_2022["alpha"], powerlaw.HOFFMANN_2022["beta"]),
        "besiroglu_2024": powerlaw.loss_exponent(powerlaw.BESIROGLU_2024["alpha"], powerlaw.BESIROGLU_2024["beta"]),
    }


DEMO = Demo(
    name="scaling-laws",
    title="A scaling-law sweep",
    terms=("scaling-laws",),
    Params=Params,
    train=train,
    # Not lr: a change would reach only the models stepping after it, and the sweep would stop comparing like with like.
    live=frozenset({"pace"}),
    charts=(
        Chart("Held-out loss against compute", ("val_loss",), x="flops", log_x=True, log_y=True),
        Chart("Training loss against tokens", ("loss",), x="tokens", log_x=True, log_y=True),
        # The exponent b of the latest fit, so the reader sees it settle (or not) while the frontier grows.
        Chart("Fitted exponent b against compute", ("exponent",), x="flops", log_x=True),
    ),
    blurb=(
        "Six character transformers of different widths train on the same text for the same number of tokens. "
        "On log-log axes their held-out losses against compute form a fan; its lower edge, the compute-efficient "
        "frontier, is fitted with a power law L(C) = a·C^(−b) as the points arrive."
    ),
)
