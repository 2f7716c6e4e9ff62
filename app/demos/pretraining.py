"""Pretraining playground: a character transformer learns English from random weights.

The loss starts at ln(vocab size), a uniform guess over the characters, and falls as the model
learns which characters are common, then spelling, then words; the validation split tells
learning from memorising. Samples from a fixed prompt, every few seconds, show the same story.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from typing import Any, Literal

from pydantic import Field

from app.demos._lm import EVAL_EVERY, SpreadSample, lr_field, seed_field, steps_field
from app.demos._own_text import (
    OwnTextParams,
    described,
    held_out_split,
    keep_text_field,
    opening,
    text_field,
    withhold_text,
)
from app.demos.base import Chart, Control, Demo, Point, only_when, pace_field
from app.ml import texts

BLOCK_SIZE = 64  # characters of context per window
N_HEAD = 4
PROMPT = "The "
SAMPLE_CHARS = 80
SAMPLE_EVERY = 50  # steps between the starts of two samples: about 2 s at the default pace
CHARS_PER_STEP = 20  # a sample takes SAMPLE_CHARS / CHARS_PER_STEP = 4 steps to write
VAL_BATCH = 16  # fixed validation windows, evenly spaced over the held-out text
NGRAM_K = 0.05  # add-k smoothing of the count baselines
LR_FLOOR = 0.1  # the cosine decays the rate to this fraction of its peak


class Params(OwnTextParams):
    d_model: int = Field(
        64, ge=16, le=128, multiple_of=16, title="Width", description="d_model: size of each character's vector."
    )
    n_layer: int = Field(2, ge=1, le=4, title="Depth", description="Number of transformer blocks.")
    lr: float = lr_field(3e-3)
    schedule: Literal["constant", "warmup_cosine"] = Field(
        "constant",
        title="Schedule",
        description="constant: every step at lr. warmup_cosine: a linear warm-up to lr, then a cosine decay to "
        "a tenth of it by the last step.",
    )
    warmup: int = Field(
        50,
        ge=1,
        le=1000,
        title="Warm-up steps",
        description="Steps of the linear warm-up.",
        json_schema_extra=only_when(schedule="warmup_cosine"),
    )
    clip: float = Field(
        0.0,
        ge=0,
        le=100,
        title="Gradient clipping",
        description="Largest gradient norm: a step whose gradient is longer is scaled down to it. 0: no clipping.",
    )
    steps: int = steps_field(400, le=3000)
    batch_size: int = Field(16, ge=1, le=64, title="Batch size", description="Windows of 64 characters per step.")
    temperature: float = Field(
        0.8, ge=0, le=2, title="Temperature", description="Sampling temperature of the samples; 0 is greedy."
    )
    seed: int = seed_field()
    pace: float = pace_field(40)
    text: str | None = text_field()
    keep_text: bool = keep_text_field()


def train(p: Params, ctl: Control) -> Generator[Point, None, dict[str, Any]]:
    import torch

    from app.ml import charlm
    from app.ml.ngram import CharNGram, window_targets
    from app.ml.schedule import warmup_cosine

    device = torch.device(ctl.device)
    if p.text is None:
        vocab, prompt, (train_text, val_text) = charlm.LM_VOCAB, PROMPT, (texts.ENGLISH_TRAIN, texts.ENGLISH_VAL)
    else:  # a reader's text: its own characters are the vocabulary, its start the prompt
        vocab, (train_text, val_text) = charlm.Vocab(p.text), held_out_split(p.text)
        prompt = opening(train_text)
    cfg = charlm.CharLMConfig(len(vocab), block_size=BLOCK_SIZE, n_layer=p.n_layer, n_head=N_HEAD, d_model=p.d_model)
    model = charlm.new_model(cfg, p.seed).to(device).train()
    opt = torch.optim.Adam(model.parameters(), lr=p.lr)
    train_data = vocab.encode(train_text)
    x_val, y_val = (t.to(device) for t in charlm.fixed_batch(vocab.encode(val_text), VAL_BATCH, BLOCK_SIZE))
    batches = torch.Generator().manual_seed(p.seed)
    sampling = torch.Generator().manual_seed(p.seed)
    sample = SpreadSample(SAMPLE_CHARS, CHARS_PER_STEP)
    uniform_loss = math.log(len(vocab))  # cross-entropy of a uniform guess over the vocabulary
    # Count models on the same split, scored on the same held-out targets as val_loss.
    val_data = vocab.encode(val_text)
    val_targets = window_targets(charlm.fixed_starts(len(val_data), VAL_BATCH, BLOCK_SIZE), BLOCK_SIZE)
    baselines = {
        f"{name}_val_loss": CharNGram(train_data, len(vocab), order, NGRAM_K).loss(val_data, val_targets)
        for name, order in (("bigram", 2), ("trigram", 3))
    }
    characters_seen = p.steps * p.batch_size * BLOCK_SIZE
    ctl.announce(
        text=described(p, "ours (English prose)"),
        vocab_size=len(vocab),
        vocabulary="".join(vocab.chars),
        n_params=sum(q.numel() for q in model.parameters()),
        train_chars=len(train_data),
        val_chars=len(val_text),
        block_size=BLOCK_SIZE,
        uniform_loss=uniform_loss,
        **baselines,
        ngram_smoothing_k=NGRAM_K,
        epochs=characters_seen / len(train_data),  # passes over the training text a whole run makes
        prompt=prompt,
    )

    last_sample_start = p.steps - SAMPLE_CHARS // CHARS_PER_STEP  # so the last sample ends on the last step
    point: Point = {}
    for step in range(p.steps):
        live = ctl.params
        lr = live.lr if p.schedule == "constant" else live.lr * warmup_cosine(step, p.steps, p.warmup, LR_FLOOR)
        for group in opt.param_groups:
            group["lr"] = lr
        if step % EVAL_EVERY == 0 or step == p.steps - 1:
            val_loss = charlm.eval_loss(model, x_val, y_val)  # before this step's update, like `loss`
        if not sample.busy and (step % SAMPLE_EVERY == 0 or step == last_sample_start):
            sample.start(model, prompt, live.temperature, sampling, vocab=vocab)
        x, y = (t.to(device) for t in charlm.random_batch(train_data, p.batch_size, BLOCK_SIZE, batches))
        loss = charlm.lm_loss(model, x, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        # The whole gradient's norm, before clipping (an infinite bound only measures it).
        grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), p.clip or math.inf).item()
        opt.step()
        point = {
            "step": step,
            "loss": loss.item(),
            "val_loss": val_loss,
            "uniform_loss": uniform_loss,  # constant lines on the loss chart
            **baselines,
            "tokens": (step + 1) * p.batch_size * BLOCK_SIZE,  # characters trained on so far, this batch included
            "lr": lr,
            "grad_norm": grad_norm,
        }
        if (text := sample.advance()) is not None:
            point["sample"] = text
        yield point
    return {
        "final": {"loss": point["loss"], "val_loss": point["val_loss"]},
        "tokens": point["tokens"],
        "epochs": point["tokens"] / len(train_data),
        **baselines,
    }


DEMO = Demo(
    name="pretraining",
    title="Pretraining a tiny language model",
    terms=("pretraining",),
    Params=Params,
    train=train,
    live=frozenset({"lr", "temperature", "pace"}),
    charts=(
        Chart(
            "Loss (nats per character)",
            ("loss", "val_loss", "uniform_loss", "bigram_val_loss", "trigram_val_loss"),
            x_choices=("tokens",),
        ),
        Chart("Learning rate", ("lr",), log_y=True),
        Chart("Gradient norm (before clipping)", ("grad_norm",), log_y=True),
    ),
    feeds=("sample",),
    blurb="A character-level transformer learns English from random weights, by guessing the next "
    "character of 17 KB of prose (or of a text you give it). The loss starts at ln(vocab size), a "
    "uniform guess, and is drawn against bigram and trigram count models of the same text; the samples "
    "go from noise to letters to words. Try a higher lr with and without warm-up, cosine decay and clipping.",
    withhold=withhold_text,
)
