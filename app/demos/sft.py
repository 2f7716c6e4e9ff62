"""Supervised fine-tuning playground: the English base learns to answer in a chat template.

Two copies of the base train on the same batches of packed conversations
("User: <prompt>\nAssistant: <response>\n"). One is trained on every token; the other only on the
response tokens, the prompt and template masked out of the loss as SFT trainers do. Both are
measured the same way: the loss on responses, and on prompts, of held-out conversations.
"""

from __future__ import annotations

from collections.abc import Generator
from types import ModuleType
from typing import TYPE_CHECKING, Any

from pydantic import Field

from app.demos._charlm import ENGLISH_BASE
from app.demos._lm import EVAL_EVERY, SpreadSample, adam_step, load_base, lr_field, seed_field, steps_field
from app.demos.base import Chart, Control, Demo, DemoParams, Point, pace_field
from app.ml import texts

if TYPE_CHECKING:
    from torch import Tensor

    from app.ml.charlm import CharLM

SERIES = ("all_tokens", "response_only")
VAL_BATCH = 16  # fixed windows, evenly spaced over the held-out conversations
COMPLETIONS = 4  # times a held-out prompt is answered by each series, from the first step to the end
COMPLETION_CHARS = 90  # at most; a completion stops at the newline that closes the turn
CHARS_PER_STEP = 10  # so a completion takes up to 9 steps to write
TEMPERATURE = 0.6  # sampled, not greedy (which loops on "the the"); both series draw the same random numbers


class Params(DemoParams):
    lr: float = lr_field(2e-3)
    steps: int = steps_field(250)
    batch_size: int = Field(8, ge=1, le=32, title="Batch size", description="Windows of 64 characters per step.")
    seed: int = seed_field()
    pace: float = pace_field(30)


def train(p: Params, ctl: Control) -> Generator[list[Point], None, dict[str, Any]]:
    import copy

    import torch

    from app.ml import charlm

    device = torch.device(ctl.device)
    vocab = charlm.LM_VOCAB
    base = load_base(ctl)
    T = base.cfg.block_size
    models = {name: copy.deepcopy(base) for name in SERIES}
    opts = {name: torch.optim.Adam(m.parameters(), lr=p.lr) for name, m in models.items()}

    ids, is_response = charlm.encode_chats(texts.CHATS_TRAIN, vocab)
    val_ids, val_response = charlm.encode_chats(texts.CHATS_VAL, vocab)
    starts = torch.linspace(0, len(val_ids) - T - 1, VAL_BATCH).long()
    x_val, y_val = (t.to(device) for t in charlm.windows(val_ids, starts, T))
    m_val = charlm.windows(val_response, starts, T)[1].to(device)  # shifted like the targets
    ctl.announce(
        # Targets outside every response: what the response-only loss leaves out.
        masked_fraction=1 - is_response[1:].float().mean().item(),
        conversations={"train": len(texts.CHATS_TRAIN), "held_out": len(texts.CHATS_VAL)},
        template=texts.chat_prompt("<prompt>") + " <response>",
        n_params=sum(q.numel() for q in base.parameters()),
    )

    batches = torch.Generator().manual_seed(p.seed)
    last_start = max(p.steps - COMPLETION_CHARS // CHARS_PER_STEP, 0)  # the last one is done by the last step
    checkpoints = {round(k * last_start / (COMPLETIONS - 1)) for k in range(COMPLETIONS)}
    completions = {name: SpreadSample(COMPLETION_CHARS, CHARS_PER_STEP) for name in SERIES}
    n_completed = 0
    val: dict[str, dict[str, float]] = {}
    points: list[Point] = []
    for step in range(p.steps):
        lr = ctl.params.lr
        starts = torch.randint(len(ids) - T, (p.batch_size,), generator=batches)
        x, y = (t.to(device) for t in charlm.windows(ids, starts, T))
        mask = charlm.windows(is_response, starts, T)[1].to(device)
        if step in checkpoints and not completions[SERIES[0]].busy:
            prompt = texts.chat_prompt(texts.CHATS_VAL[n_completed % len(texts.CHATS_VAL)][0])
            n_completed += 1
            for name, model in models.items():
                sampling = torch.Generator().manual_seed(p.seed + n_completed)
                completions[name].start(model, prompt, TEMPERATURE, sampling, stop="\n")
        points = []
        for name, model in models.items():
            if step % EVAL_EVERY == 0 or step == p.steps - 1:
                val[name] = split_losses(charlm, model, x_val, y_val, m_val, grad=False)
            losses = split_losses(charlm, model, x, y, mask, grad=True)
            objective = losses["all" if name == "all_tokens" else "response"]
            point = {
                "step": step,
                "series": name,
                "loss": adam_step(opts[name], objective, lr),  # the loss this series trains on
                "response_loss": losses["response"].item(),  # on this batch, before the update
                "prompt_loss": losses["prompt"].item(),
                "val_response_loss": val[name]["response"],
                "val_prompt_loss": val[name]["prompt"],
                "lr": lr,
            }
            if (text := completions[name].advance()) is not None:
                point["completion"] = text
            points.append(point)
        yield points
    return {"final": {q["series"]: {k: v for k, v in q.items() if k.endswith("loss")} for q in points}}


def split_losses(charlm: ModuleType, model: CharLM, x: Tensor, y: Tensor, mask: Tensor, grad: bool) -> dict:
    """From one forward pass: the loss on every token, on response tokens, on masked tokens
    (tensors to train on, or plain numbers when grad is False)."""
    import torch

    with torch.set_grad_enabled(grad):
        nll = charlm.token_nll(model, x, y)
    losses = {"all": nll.mean(), "response": charlm.masked_mean(nll, mask), "prompt": charlm.masked_mean(nll, 1 - mask)}
    return losses if grad else {k: v.item() for k, v in losses.items()}


DEMO = Demo(
    name="sft",
    title="Supervised fine-tuning with a chat template",
    terms=("sft",),
    Params=Params,
    train=train,
    live=frozenset({"lr", "pace"}),
    artifacts=(ENGLISH_BASE,),
    charts=(
        Chart("Held-out response loss", ("val_response_loss",)),
        Chart("Held-out prompt loss", ("val_prompt_loss",)),
        Chart("Training loss (what each series minimises)", ("loss",)),
    ),
    feeds=("completion",),
    blurb="The pretrained English model learns to answer in a User/Assistant template. Two copies "
    "train on the same batches: one on every token, one on the responses only (prompt masked).",
)
