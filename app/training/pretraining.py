"""Pretraining playground: a character transformer learns English from random weights."""

from __future__ import annotations

import math
from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import torch

from app.ml import charlm, texts
from app.ml.ngram import CharNGram, window_targets
from app.ml.optim import set_lr
from app.ml.own_text import described, held_out_split, opening
from app.ml.schedule import warmup_cosine
from app.training._lm import EVAL_EVERY, SpreadSample

if TYPE_CHECKING:
    from app.demos.base import Control, Point
    from app.demos.pretraining import Params


BLOCK_SIZE = 64  # characters of context per window


N_HEAD = 4


PROMPT = "The "


SAMPLE_CHARS = 80


SAMPLE_EVERY = 50  # steps between the starts of two samples: about 2 s at the default pace


CHARS_PER_STEP = 20  # a sample takes SAMPLE_CHARS / CHARS_PER_STEP = 4 steps to write


VAL_BATCH = 16  # fixed validation windows, evenly spaced over the held-out text


NGRAM_K = 0.05  # add-k smoothing of the count baselines


LR_FLOOR = 0.1  # the cosine decays the rate to this fraction of its peak


def train(p: Params, ctl: Control[Params]) -> Generator[Point, None, dict[str, Any]]:
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
        set_lr(opt, lr)
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
