"""Scaling laws: every width of the sweep trains from scratch on the same text and token budget, with
the same batches, interleaved in order of compute; the compute-efficient frontier and a power law
fitted to it follow as the held-out points arrive.

The frontier admits only points below the unigram loss, the held-out loss of predicting each
character from letter frequencies alone: above it a model is still in its first transient, and a
scaling law is about what models learn, not about how fast an initialisation wears off."""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import torch

from app.ml import flops, powerlaw
from app.ml.charlm import eval_loss, fixed_batch, fixed_starts, lm_loss, random_batch
from app.ml.compute_budget import steps_for, tokens_per_step
from app.ml.ngram import CharNGram, window_targets
from app.ml.optim import adam_step
from app.ml.scaling import Corpus, load_corpus, make_model
from app.training import scaling_isoflop

if TYPE_CHECKING:
    from app.demos.base import Control, Point
    from app.demos.scaling_laws import Params


EVALS = 16  # held-out evaluations per model, log-spaced in steps


VAL_WINDOWS = 32  # held-out sequences per evaluation: the same ones every time, for every model


def eval_steps(steps: int, evals: int = EVALS) -> set[int]:
    """Steps (counted from 1, after the update) spread evenly in log between 1 and `steps`."""
    return {round(steps ** (k / (evals - 1))) for k in range(evals)}


UNIGRAM_K = 0.05  # add-k smoothing of the unigram baseline: a character never seen in training stays possible


def unigram_loss(corpus: Corpus, seq_len: int) -> float:
    """The held-out loss of letter frequencies alone (counted on the training text), on exactly the
    characters the models are evaluated on."""
    targets = window_targets(fixed_starts(len(corpus.val), VAL_WINDOWS, seq_len), seq_len)
    return CharNGram(corpus.train, len(corpus.vocab), order=1, k=UNIGRAM_K).loss(corpus.val, targets)


def train(p: Params, ctl: Control[Params]) -> Generator[list[Point], None, dict[str, Any]]:
    if p.plan == "isoflop":
        return (yield from scaling_isoflop.train(p, ctl))
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
    batch_tokens = tokens_per_step(p.batch_size, p.seq_len)
    steps = steps_for(p.tokens, p.batch_size, p.seq_len)
    at = eval_steps(steps)
    unigram = unigram_loss(corpus, p.seq_len)
    ctl.announce(
        models=[{"series": s, "width": w, "non_embedding_params": n[s]} for s, w in zip(names, p.widths, strict=True)],
        steps_per_model=steps,
        tokens_per_model=steps * batch_tokens,
        compute="flops = 6·N·tokens (Kaplan et al. 2020), N = parameters other than the embedding tables",
        held_out={"train_chars": len(corpus.train), "val_chars": len(corpus.val), "val_windows": VAL_WINDOWS},
        epochs_per_model=steps * batch_tokens / len(corpus.train),
        unigram_loss=unigram,
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
        last_loss[name] = adam_step(opts[name], lm_loss(models[name], x, y), lr)
        done[name] += 1
        tokens = done[name] * batch_tokens
        c = flops.training_flops(n[name], tokens)
        point = {"step": step, "series": name, "loss": last_loss[name], "lr": lr, "tokens": tokens, "flops": c}
        points = [point]
        if done[name] in at:
            point["val_loss"] = val = eval_loss(models[name], x_val, y_val)
            curves[name].append((c, val))
            # c is the most compute so far, so a point lower than the last one is on the frontier for good.
            if val < unigram and (not frontier or val < frontier[-1]["val_loss"]):
                frontier.append({"flops": c, "val_loss": val, "model": name, "params": n[name], "tokens": tokens})
                points.append({"step": step, "series": "frontier", "flops": c, "val_loss": val, "model": name})
                if len(frontier) >= 3:
                    fit = powerlaw.fit_power_law([f["flops"] for f in frontier], [f["val_loss"] for f in frontier])
                    points.append(fit_point(step, c, fit, frontier))
        yield points

    return summary(p, names, n, curves, frontier, fit, last_loss) | {"unigram_loss": unigram}


def fit_point(step: int, c: float, fit: Any, frontier: list[dict[str, Any]]) -> Point:
    """The latest fit's value at the compute just reached, with its parameters and, from 4 frontier
    points on, the range of exponents the fits without any one of them give."""
    point = {"step": step, "series": "fit", "flops": c, "val_loss": fit(c), "exponent": fit.b, "a": fit.a, "e": fit.e}
    if len(frontier) >= 4:
        cs, losses = [f["flops"] for f in frontier], [f["val_loss"] for f in frontier]
        point["exponent_low"], point["exponent_high"] = powerlaw.leave_one_out_exponents(cs, losses)
    return point


def summary(p: Params, names, n, curves, frontier, fit, last_loss) -> dict[str, Any]:
    every = [pt for curve in curves.values() for pt in curve]
    levels = powerlaw.log_levels(min(c for c, _ in every), max(c for c, _ in every))
    best = []
    for row in powerlaw.best_per_level(curves, levels):
        params = n[row["best"]]
        tokens = row["flops"] / (6 * params)  # what that model had trained on at this compute
        best.append(row | {"params": params, "tokens": tokens, "tokens_per_param": tokens / params})
    spread = {}
    if len(frontier) >= 4:
        low, high = powerlaw.leave_one_out_exponents([f["flops"] for f in frontier], [f["val_loss"] for f in frontier])
        spread = {"exponent_leaving_one_out": [low, high]}
    return {
        "fit": None if fit is None else fit.as_dict() | {"irreducible": fit.e > 0, "points": len(frontier)} | spread,
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

    return {
        "kaplan_2020_alpha_c_min": powerlaw.KAPLAN_2020["alpha_C_min"],
        "hoffmann_2022": powerlaw.loss_exponent(powerlaw.HOFFMANN_2022["alpha"], powerlaw.HOFFMANN_2022["beta"]),
        "besiroglu_2024": powerlaw.loss_exponent(powerlaw.BESIROGLU_2024["alpha"], powerlaw.BESIROGLU_2024["beta"]),
    }
