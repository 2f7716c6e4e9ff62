"""Scaling laws, the IsoFLOP plan (Hoffmann et al. 2022, approach 2): at each compute budget every
width is trained from scratch on the tokens the budget pays for, D = C / (6N), with a warm-up and a
cosine decay as long as its own run, so a short run is not judged by a checkpoint of a long one.
Each budget's final held-out losses against ln N get a parabola; its vertex is that budget's
compute-optimal size. Repeating the budgets over seeds shows how far the vertex moves by chance.

A width whose budget buys fewer than MIN_STEPS steps is left out of that budget: a run that short
measures its warm-up, not the model."""

from __future__ import annotations

import math
from collections.abc import Generator, Sequence
from typing import TYPE_CHECKING, Any

import torch

from app.ml import flops, isoflop
from app.ml.charlm import eval_loss, fixed_batch, lm_loss, random_batch
from app.ml.compute_budget import tokens_per_step
from app.ml.optim import adam_step
from app.ml.scaling import Corpus, load_corpus, make_model
from app.ml.schedule import warmup_cosine

if TYPE_CHECKING:
    from app.demos.base import Control, Point
    from app.demos.scaling_laws import Params

MIN_STEPS = 10
WARMUP_SHARE = 0.1  # of each run's own steps
FLOOR = 0.1  # the cosine ends at a tenth of the peak rate, as Chinchilla's did
PARABOLA_POINTS = 9  # drawn per budget, evenly in ln N between the smallest and largest model trained


def held_out(corpus: Corpus, seq_len: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Every held-out character scored once (windows side by side): the final losses decide the
    optimum, so they get the whole held-out text, not a sample."""
    return fixed_batch(corpus.val, len(corpus.val) // seq_len, seq_len)


def steps_for_budget(gflop: int, n_params: int, batch_tokens: int) -> int:
    """The whole steps a budget of `gflop`·10⁹ FLOPs buys a model of N parameters, at 6·N FLOPs a token."""
    return int(gflop * 1e9 // (6 * n_params * batch_tokens))


def train_one(
    p: Params, corpus: Corpus, width: int, seed: int, steps: int, device: torch.device
) -> Generator[None, None, torch.nn.Module]:
    """One run of `steps` steps with its own schedule; yields once a step."""
    model = make_model(len(corpus.vocab), width, p.depth, p.seq_len, seed).to(device).train()
    opt = torch.optim.Adam(model.parameters(), lr=p.lr)
    batches = torch.Generator().manual_seed(seed)
    warmup = max(1, round(WARMUP_SHARE * steps))
    for step in range(steps):
        x, y = (t.to(device) for t in random_batch(corpus.train, p.batch_size, p.seq_len, batches))
        adam_step(opt, lm_loss(model, x, y), p.lr * warmup_cosine(step, steps, warmup, FLOOR))
        yield
    return model


def train(p: Params, ctl: Control[Params]) -> Generator[list[Point], None, dict[str, Any]]:
    device = torch.device(ctl.device)
    corpus = load_corpus()
    n = {w: flops.non_embedding_params(make_model(len(corpus.vocab), w, p.depth, p.seq_len, 0)) for w in p.widths}
    batch_tokens = tokens_per_step(p.batch_size, p.seq_len)
    x_val, y_val = (t.to(device) for t in held_out(corpus, p.seq_len))
    seeds = [p.seed + k for k in range(p.seeds)]
    plan = {g: {w: steps_for_budget(g, n[w], batch_tokens) for w in p.widths} for g in p.budgets}
    ctl.announce(
        models=[{"width": w, "non_embedding_params": n[w]} for w in p.widths],
        steps={f"{g} GFLOP": {f"d={w}": s for w, s in plan[g].items() if s >= MIN_STEPS} for g in p.budgets},
        schedule=f"linear warm-up over {WARMUP_SHARE:.0%} of each run, then cosine to {FLOOR:g} of the peak",
        held_out_chars=y_val.numel(),
        seeds=seeds,
    )
    step = 0
    budgets = []
    for g in p.budgets:
        runs, optima = [], []
        for seed in seeds:
            series = f"{g} GFLOP" if len(seeds) == 1 else f"{g} GFLOP, seed {seed}"
            curve = []
            for w in p.widths:
                steps = plan[g][w]
                if steps < MIN_STEPS:
                    continue
                model = yield from _stepping(train_one(p, corpus, w, seed, steps, device))
                step += steps
                val = eval_loss(model, x_val, y_val)
                curve.append((n[w], val))
                runs.append({"seed": seed, "width": w, "params": n[w], "steps": steps, "val_loss": val})
                tokens = steps * batch_tokens
                yield [{"step": step, "series": series, "params": n[w], "val_loss": val, "width": w, "tokens": tokens}]
            if len(curve) < 3:
                continue
            best = isoflop.optimum([c[0] for c in curve], [c[1] for c in curve])
            optima.append({"seed": seed, "n_opt": best.n_params, "loss": best.loss, "inside": best.inside})
            yield parabola_points(step, series, curve) + optimum_points(step, g, seed, len(seeds), best)
        budgets.append({"gflop": g, "flops": g * 1e9, "runs": runs, "optima": optima})
    return {"plan": "isoflop", "budgets": budgets, "exponents": exponents(budgets, seeds)}


def _stepping(run: Generator[None, None, torch.nn.Module]) -> Generator[list[Point], None, torch.nn.Module]:
    """A run's steps as the engine's yields: one empty list of points a step, so the worker can
    pace, pause and stop the run between any two of them."""
    while True:
        try:
            next(run)
        except StopIteration as done:
            return done.value
        yield []


def parabola_points(step: int, series: str, curve: Sequence[tuple[float, float]]) -> list[Point]:
    parabola = isoflop.fit_parabola([c[0] for c in curve], [c[1] for c in curve])
    lo, hi = math.log(curve[0][0]), math.log(curve[-1][0])
    xs = [math.exp(lo + (hi - lo) * k / (PARABOLA_POINTS - 1)) for k in range(PARABOLA_POINTS)]
    return [{"step": step, "series": series, "params": x, "parabola": parabola(x)} for x in xs]


def optimum_points(step: int, gflop: int, seed: int, seeds: int, best: isoflop.Optimum) -> list[Point]:
    if best.n_params is None:
        return []
    series = "optimum" if seeds == 1 else f"optimum, seed {seed}"
    return [{"step": step, "series": series, "flops": gflop * 1e9, "n_opt": best.n_params, "inside": best.inside}]


def exponents(budgets: list[dict[str, Any]], seeds: list[int]) -> dict[str, float]:
    """a in N_opt ∝ C^a, per seed, from the budgets whose vertex fell inside the sizes trained."""
    out = {}
    for seed in seeds:
        found = [(b["flops"], o["n_opt"]) for b in budgets for o in b["optima"] if o["seed"] == seed and o["inside"]]
        if len(found) >= 2:
            out[str(seed)] = isoflop.optimum_exponent([f[0] for f in found], [f[1] for f in found])
    return out
