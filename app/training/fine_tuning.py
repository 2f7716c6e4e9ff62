"""Fine-tuning playground: the English base adapts to a new domain, against a model from scratch."""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import torch

from app.ml import charlm, texts
from app.ml.optim import adam_step
from app.ml.own_text import PLACEHOLDER, described, fit_to_vocab, held_out_split, opening
from app.training._lm import EVAL_EVERY, SpreadSample, load_base

if TYPE_CHECKING:
    from app.demos.base import Control, Point
    from app.demos.fine_tuning import Params


BATCH_SIZE = 8  # windows of 64 characters per step and series


VAL_BATCH = 16  # fixed windows of each validation split


PROMPT = "Esk Deep."


SAMPLE_CHARS = 100  # greedy, written at the start and by the end of a run, CHARS_PER_STEP per step


CHARS_PER_STEP = 10


def train(p: Params, ctl: Control[Params]) -> Generator[list[Point], None, dict[str, Any]]:
    device = torch.device(ctl.device)
    vocab = charlm.LM_VOCAB
    pretrained = load_base(ctl)
    freeze_lower(pretrained, p.frozen_layers)
    models = {"pretrained": pretrained}
    if p.compare_scratch:
        # Random weights of the same shape; scratch trains every one of them (nothing learned to keep).
        models["scratch"] = charlm.new_model(pretrained.cfg, p.seed).to(device).train()
    opts = {
        name: torch.optim.Adam([q for q in m.parameters() if q.requires_grad], lr=p.lr) for name, m in models.items()
    }
    T = pretrained.cfg.block_size
    if p.text is None:
        replaced: dict[str, int] = {}
        prompt, train_text, val_text = PROMPT, texts.FORECAST_TRAIN[: p.new_chars], texts.FORECAST_VAL
    else:  # a reader's text, in the characters the base model has ids for
        fitted, replaced = fit_to_vocab(p.text, set(vocab.chars))
        train_text, val_text = held_out_split(fitted)
        prompt = opening(train_text)
    data = vocab.encode(train_text)
    english = vocab.encode(texts.ENGLISH_TRAIN)
    n_replay = round(p.replay * BATCH_SIZE)
    n_new = BATCH_SIZE - n_replay
    evals: dict[str, tuple[torch.Tensor, ...]] = {
        "val_loss": charlm.fixed_batch(vocab.encode(val_text), VAL_BATCH, T),
        "val_loss_english": charlm.fixed_batch(vocab.encode(texts.ENGLISH_VAL), VAL_BATCH, T),
    }
    evals = {key: tuple(t.to(device) for t in batch) for key, batch in evals.items()}
    ctl.announce(
        new_text=described(p, "ours (shipping forecasts)"),
        new_chars=len(data),
        replay_windows=f"{n_replay} of {BATCH_SIZE}",
        epochs=p.steps * n_new * T / len(data),  # passes over the new text a whole run makes
        val_chars={"new": len(val_text), "english": len(texts.ENGLISH_VAL)},
        trainable_params={
            name: sum(q.numel() for q in m.parameters() if q.requires_grad) for name, m in models.items()
        },
        n_params=sum(q.numel() for q in pretrained.parameters()),
        prompt=prompt,
        **({"not_in_vocabulary": replaced, "written_as": PLACEHOLDER} if replaced else {}),
    )

    batches = torch.Generator().manual_seed(p.seed)
    samples = {name: SpreadSample(SAMPLE_CHARS, CHARS_PER_STEP) for name in models}
    last_start = max(p.steps - SAMPLE_CHARS // CHARS_PER_STEP, 0)  # so the last sample ends on the last step
    measured: dict[str, dict[str, float]] = {}
    points: list[Point] = []
    for step in range(p.steps):
        lr = ctl.params.lr
        x, y = charlm.random_batch(data, n_new, T, batches)
        if n_replay:
            x_old, y_old = charlm.random_batch(english, n_replay, T, batches)
            x, y = torch.cat([x, x_old]), torch.cat([y, y_old])
        x, y = x.to(device), y.to(device)
        points = []
        for name, model in models.items():
            if step % EVAL_EVERY == 0 or step == p.steps - 1:  # before this step's update, like `loss`
                measured[name] = {key: charlm.eval_loss(model, *batch) for key, batch in evals.items()}
            if step in (0, last_start) and not samples[name].busy:
                samples[name].start(model, prompt)
            loss = adam_step(opts[name], charlm.lm_loss(model, x, y), lr)
            point = {"step": step, "series": name, "loss": loss, **measured[name], "lr": lr}
            if (text := samples[name].advance()) is not None:
                point["sample"] = text
            points.append(point)
        yield points
    return {"final": {q["series"]: {k: v for k, v in q.items() if "loss" in k} for q in points}}


def freeze_lower(model: Any, n: int) -> None:
    """Keep the embeddings and the lowest n blocks fixed: only the layers above them learn."""
    if n == 0:
        return
    for module in [model.tok_emb, model.pos_emb, *model.blocks[:n]]:
        module.requires_grad_(False)
