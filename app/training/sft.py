"""Supervised fine-tuning playground: the English base learns to answer in a chat template."""

from __future__ import annotations

import copy
from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import torch

from app.ml import charlm, packing, texts
from app.ml.charlm import masked_mean
from app.ml.optim import adam_step
from app.ml.packing import token_nll
from app.training._lm import EVAL_EVERY, load_base

CONTEXT, OVERLAP, ROW = 64, 32, 128  # the model's context; see app.ml.packing

if TYPE_CHECKING:
    from app.demos.base import Control, Point
    from app.demos.sft import Params
    from app.ml.charlm import CharLM
    from app.ml.packing import Packed


SERIES = ("all_tokens", "response_only")


FORMAT_EVERY = 50  # steps between format checks (and the last step): each costs 120 forward passes


SAMPLES_PER_PROMPT = 2  # answers sampled per held-out question at each check: 16 in all


REPLY_CHARS = 120  # at most; the longest response we wrote has 100 with its space and newline


TEMPERATURE = 0.6  # sampled, not greedy (which loops on "the the"); both series draw the same random numbers


def train(p: Params, ctl: Control[Params]) -> Generator[list[Point], None, dict[str, Any]]:
    device = torch.device(ctl.device)
    vocab = charlm.LM_VOCAB
    base = load_base(ctl)
    models = {name: copy.deepcopy(base) for name in SERIES}
    opts = {name: torch.optim.Adam(m.parameters(), lr=p.lr) for name, m in models.items()}

    val = packing.to(packing.pack_conversations(texts.CHATS_VAL, vocab, CONTEXT, OVERLAP, ROW), device)
    questions = [texts.chat_prompt(prompt) for prompt, _ in texts.CHATS_VAL] * SAMPLES_PER_PROMPT
    train_all = packing.pack_conversations(texts.CHATS_TRAIN, vocab, CONTEXT, OVERLAP, ROW)
    ctl.announce(
        # Counted targets outside every response: what the response-only loss leaves out.
        masked_fraction=1 - (train_all.counted * train_all.response).sum().item() / train_all.counted.sum().item(),
        conversations={"train": len(texts.CHATS_TRAIN), "held_out": len(texts.CHATS_VAL)},
        held_out_characters={
            "response": int((val.counted * val.response).sum()),
            "prompt": int((val.counted * (1 - val.response)).sum()),
        },
        template=texts.chat_prompt("<prompt>") + " <response>",
        n_params=sum(q.numel() for q in base.parameters()),
    )

    batches = torch.Generator().manual_seed(p.seed)
    val_losses: dict[str, dict[str, float]] = {}
    formats: dict[str, dict[str, float]] = {}
    points: list[Point] = []
    replies: list[str] = []
    reply_form: dict[str, float] = {}
    checks = 0
    for step in range(p.steps):
        lr = ctl.params.lr
        picked = torch.randint(len(texts.CHATS_TRAIN), (p.batch_size,), generator=batches).tolist()
        batch = packing.pack_conversations([texts.CHATS_TRAIN[i] for i in picked], vocab, CONTEXT, OVERLAP, ROW)
        batch = packing.to(batch, device)
        check_format = step % FORMAT_EVERY == 0 or step == p.steps - 1
        points = []
        for name, model in models.items():
            if step % EVAL_EVERY == 0 or step == p.steps - 1:
                val_losses[name] = split_losses(model, val, grad=False)
            if check_format and (step > 0 or not replies):  # at step 0 both are the base: one check
                sampling = torch.Generator().manual_seed(p.seed * 1000 + checks)  # before the update
                replies = packing.complete(model, questions, vocab, REPLY_CHARS, TEMPERATURE, sampling)
                reply_form = {
                    "ends_turn": sum(map(packing.ends_turn, replies)) / len(replies),
                    "well_formed": sum(map(packing.well_formed, replies)) / len(replies),
                }
            if check_format:
                formats[name] = reply_form
            losses = split_losses(model, batch, grad=True)
            objective = losses["all" if name == "all_tokens" else "response"]
            point = {
                "step": step,
                "series": name,
                "loss": adam_step(opts[name], objective, lr),  # the loss this series trains on
                "response_loss": losses["response"].item(),  # on this batch, before the update
                "prompt_loss": losses["prompt"].item(),
                "val_response_loss": val_losses[name]["response"],
                "val_prompt_loss": val_losses[name]["prompt"],
                **formats[name],
                "lr": lr,
            }
            if check_format:
                shown = checks % len(texts.CHATS_VAL)  # a different question at each check
                point["completion"] = questions[shown] + replies[shown]
            points.append(point)
        checks += check_format
        yield points
    return {
        "final": {
            q["series"]: {k: v for k, v in q.items() if k not in ("step", "series", "lr", "completion")} for q in points
        }
    }


def split_losses(model: CharLM, batch: Packed, grad: bool) -> dict:
    """From one forward pass: the mean loss on every counted target, on the response targets, on
    the prompt and template targets (tensors to train on, or plain numbers when grad is False)."""

    with torch.set_grad_enabled(grad):
        nll = token_nll(model, batch)
    counted, response = batch.counted, batch.response
    losses = {
        "all": masked_mean(nll, counted),
        "response": masked_mean(nll, counted * response),
        "prompt": masked_mean(nll, counted * (1 - response)),
    }
    return losses if grad else {k: v.item() for k, v in losses.items()}
