"""A tiny character-level transformer, and the base models the language-model playgrounds start from.

The texts are in app.ml.texts. Two bases are pretrained once, deterministically, as prepared
artifacts (app.demos.recipes declares them), so every run starts at once from the same weights:
`build_base` pretrains on task A for LoRA and QLoRA; `build_english_base` pretrains on the English
corpus for fine-tuning, SFT and instruction tuning (the pretraining playground's model, trained longer).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from itertools import islice
from pathlib import Path
from typing import Any, TypeVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from app.ml import texts
from app.ml.optim import set_lr
from app.ml.reproducible import Progress, reproducible, save
from app.ml.texts import TEXT_A, TEXT_B, to_task_b  # noqa: F401  (re-exported for the demos)


class Vocab:
    """Characters <-> ids, over every character of the given text."""

    def __init__(self, text: str) -> None:
        self.chars = sorted(set(text))
        self.index = {c: i for i, c in enumerate(self.chars)}

    def __len__(self) -> int:
        return len(self.chars)

    def encode(self, text: str) -> Tensor:
        return torch.tensor([self.index[c] for c in text], dtype=torch.long)

    def decode(self, ids: Tensor) -> str:
        return "".join(self.chars[i] for i in ids.tolist())


VOCAB = Vocab(TEXT_A + TEXT_B)  # LoRA and QLoRA: the union of both tasks, so one embedding table serves both
LM_VOCAB = Vocab(texts.LM_TEXT)  # pretraining, fine-tuning, SFT, instruction tuning: one base serves them all


@dataclass(frozen=True)
class CharLMConfig:
    vocab_size: int
    block_size: int = 64
    n_layer: int = 2
    n_head: int = 4
    d_model: int = 64


class Block(nn.Module):
    """Pre-norm transformer block. Its Linear layers are named after the groups LoRA can target."""

    def __init__(self, cfg: CharLMConfig) -> None:
        super().__init__()
        d = cfg.d_model
        self.n_head = cfg.n_head
        self.ln_1 = nn.LayerNorm(d)
        self.attn_qkv = nn.Linear(d, 3 * d)
        self.attn_out = nn.Linear(d, d)
        self.ln_2 = nn.LayerNorm(d)
        self.mlp_in = nn.Linear(d, 4 * d)
        self.mlp_out = nn.Linear(4 * d, d)

    def attention(self, x: Tensor, attn_mask: Tensor | None = None) -> Tensor:
        B, T, C = x.shape
        q, k, v = self.attn_qkv(x).split(C, dim=2)
        q, k, v = (t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) for t in (q, k, v))
        if attn_mask is None:
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        else:
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask)
        return self.attn_out(y.transpose(1, 2).reshape(B, T, C))

    def forward(self, x: Tensor, attn_mask: Tensor | None = None) -> Tensor:
        x = x + self.attention(self.ln_1(x), attn_mask)
        return x + self.mlp_out(F.gelu(self.mlp_in(self.ln_2(x))))


class CharLM(nn.Module):
    def __init__(self, cfg: CharLMConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.tok_emb = nn.Embedding(cfg.vocab_size, cfg.d_model)
        self.pos_emb = nn.Embedding(cfg.block_size, cfg.d_model)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layer))
        self.ln_f = nn.LayerNorm(cfg.d_model)
        self.head = nn.Linear(cfg.d_model, cfg.vocab_size)

    def forward(self, idx: Tensor, positions: Tensor | None = None, attn_mask: Tensor | None = None) -> Tensor:
        """Logits (B, T, vocab) for the next character at every position of idx (B, T).

        By default each row is one causal sequence. Packed rows (app.ml.packing) pass each
        character's position in its own sequence (B, T) and which characters each may attend to
        (B, 1, T, T, True = attend)."""
        pos = torch.arange(idx.shape[1], device=idx.device) if positions is None else positions
        x = self.tok_emb(idx) + self.pos_emb(pos)
        for block in self.blocks:
            x = block(x, attn_mask)
        return self.head(self.ln_f(x))


def init_weights(model: CharLM, std: float = 0.02) -> CharLM:
    """GPT-2's initialisation (as in nanoGPT): small normal weights, zero biases, and the two
    projections that write into the residual stream scaled by 1/sqrt(2 n_layer) so the stream's
    variance does not grow with depth. The logits start near zero: the model's first guess is
    close to uniform, with a loss close to ln(vocab size)."""
    for name, p in model.named_parameters():
        if name.endswith("bias"):
            nn.init.zeros_(p)
        elif p.dim() == 2:  # Linear and Embedding weights (LayerNorm's are 1-D: they stay at 1)
            residual = name.endswith(("attn_out.weight", "mlp_out.weight"))
            nn.init.normal_(p, 0.0, std / math.sqrt(2 * model.cfg.n_layer) if residual else std)
    return model


def new_model(cfg: CharLMConfig, seed: int, gpt2_init: bool = True) -> CharLM:
    """A randomly initialised model (init_weights, or PyTorch's defaults), seeded without
    touching the caller's RNG."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = CharLM(cfg)
        return init_weights(model) if gpt2_init else model


LayerT = TypeVar("LayerT", bound=nn.Module)


def layer_names(model: nn.Module, groups: Sequence[str]) -> list[str]:
    """Names of the layers in the given groups ("attn_qkv", ..., "head"), in model order.

    Matched by name, not type, so the layers are found again once quantized."""
    return [name for name, _ in model.named_modules() if name.split(".")[-1] in groups]


def layer(model: nn.Module, name: str, kind: type[LayerT]) -> LayerT:
    """The submodule `name` of model, checked to be a `kind` (an nn.Linear, an NF4Linear, ...)."""
    found = model.get_submodule(name)
    if not isinstance(found, kind):
        raise TypeError(f"{name} is a {type(found).__name__}, not a {kind.__name__}")
    return found


def lm_loss(model: nn.Module, x: Tensor, y: Tensor) -> Tensor:
    """Mean next-character cross-entropy (nats)."""
    logits = model(x)
    return F.cross_entropy(logits.flatten(0, 1), y.flatten())


def token_nll(model: nn.Module, x: Tensor, y: Tensor) -> Tensor:
    """Next-character cross-entropy (nats) at every position: (B, T)."""
    logits = model(x)
    return F.cross_entropy(logits.flatten(0, 1), y.flatten(), reduction="none").view(y.shape)


def masked_mean(nll: Tensor, mask: Tensor) -> Tensor:
    """Mean of nll over the positions where mask is 1; the others add nothing to the loss nor to
    its gradient. Like TRL's completion-only loss (labels -100 outside the completion), the mean
    is over the kept positions of the whole batch, not per sequence."""
    mask = mask.to(nll.dtype)
    return (nll * mask).sum() / mask.sum().clamp_min(1)


def masked_lm_loss(model: nn.Module, x: Tensor, y: Tensor, mask: Tensor) -> Tensor:
    """Cross-entropy on the response tokens only (mask 1), as SFT trainers compute it."""
    return masked_mean(token_nll(model, x, y), mask)


def random_batch(data: Tensor, batch_size: int, block_size: int, gen: torch.Generator) -> tuple[Tensor, Tensor]:
    """batch_size random windows of data; targets are the inputs shifted by one character."""
    starts = torch.randint(len(data) - block_size, (batch_size,), generator=gen)
    return windows(data, starts, block_size)


def fixed_starts(n_chars: int, batch_size: int, block_size: int) -> Tensor:
    """Where fixed_batch's windows start in a text of n_chars characters."""
    return torch.linspace(0, n_chars - block_size - 1, batch_size).long()


def fixed_batch(data: Tensor, batch_size: int, block_size: int) -> tuple[Tensor, Tensor]:
    """Evenly spaced windows: the same batch every time, whatever the seed, so curves compare."""
    return windows(data, fixed_starts(len(data), batch_size, block_size), block_size)


def windows(data: Tensor, starts: Tensor, block_size: int) -> tuple[Tensor, Tensor]:
    x = torch.stack([data[i : i + block_size] for i in starts.tolist()])
    y = torch.stack([data[i + 1 : i + 1 + block_size] for i in starts.tolist()])
    return x, y


def encode_rows(pairs: list[tuple[str, str]], vocab: Vocab, length: int) -> tuple[Tensor, Tensor, Tensor]:
    """(prompt, answer) pairs as one batch, a row each, right-padded: (x, y, mask), mask 1 where
    the target is a character of the answer. Padding after a causal row changes nothing before it."""
    pad = vocab.index["\n"]
    rows, masks = [], []
    for prompt, answer in pairs:
        ids = vocab.encode(prompt + answer).tolist()
        if len(ids) > length + 1:
            raise ValueError(f"{prompt + answer!r} is longer than {length + 1} characters")
        rows.append(ids + [pad] * (length + 1 - len(ids)))
        # Target t is character t + 1: the answer's characters are targets len(prompt) - 1 onwards.
        masks.append([len(prompt) - 1 <= t < len(ids) - 1 for t in range(length)])
    batch = torch.tensor(rows)
    return batch[:, :-1], batch[:, 1:], torch.tensor(masks, dtype=torch.long)


@torch.no_grad()
def exact_match(model: nn.Module, x: Tensor, y: Tensor, mask: Tensor) -> Tensor:
    """Per row: would greedy decoding write exactly the answer? It would if and only if the argmax
    is right at every answer position, given the right answer so far (the first wrong argmax is
    where greedy decoding would leave it), so one teacher-forced forward pass decides every row."""
    correct = model(x).argmax(-1) == y
    return (correct | ~mask.bool()).all(dim=1)


def eval_batch_a(batch_size: int = 32) -> tuple[Tensor, Tensor]:
    """The fixed task-A batch on which forgetting is measured. Task A is never trained on while
    adapting, but task B is the same text in leetspeak: see `kept_in_task_b`."""
    return fixed_batch(VOCAB.encode(TEXT_A), batch_size, CharLMConfig.block_size)


def kept_in_task_b(y: Tensor) -> Tensor:
    """True at the task-A targets that task B writes the same (every character but a, e, i, o in
    either case). On the others, learning task B means predicting a digit where task A has a
    letter: a loss there rises by design, whatever else the model keeps."""
    changed = [VOCAB.index[c] for c in "AaEeIiOo" if c in VOCAB.index]
    return ~torch.isin(y, torch.tensor(changed))


@torch.no_grad()
def eval_loss(model: nn.Module, x: Tensor, y: Tensor, mask: Tensor | None = None) -> float:
    """lm_loss (or, with a mask, its mean over the positions where mask is 1) in eval mode (no
    dropout), leaving the model in the mode it was in."""
    was_training = model.training
    model.eval()
    loss = (lm_loss(model, x, y) if mask is None else masked_lm_loss(model, x, y, mask)).item()
    model.train(was_training)
    return loss


def stream(
    model: CharLM, prompt: str, vocab: Vocab = VOCAB, temperature: float = 0.0, generator: torch.Generator | None = None
) -> Iterator[str]:
    """The continuation of prompt, one character per next(): each from the model as it is then.

    temperature 0 is greedy: deterministic, so before/after samples compare fairly. Otherwise
    each character is drawn from softmax(logits / temperature), with the given generator. One
    character costs one forward pass, so a demo can spread a long sample over its steps."""
    device = model.tok_emb.weight.device
    idx = vocab.encode(prompt).to(device)[None]
    while True:
        with torch.no_grad():
            logits = model(idx[:, -model.cfg.block_size :])[0, -1]  # (CharLM has no dropout: no eval() needed)
        if temperature == 0:
            nxt = int(logits.argmax())
        else:
            nxt = int(torch.multinomial(F.softmax(logits.float().cpu() / temperature, -1), 1, generator=generator))
        idx = torch.cat([idx, torch.tensor([[nxt]], device=device)], dim=1)
        yield vocab.chars[nxt]


def generate(
    model: CharLM, prompt: str, n_chars: int, vocab: Vocab = VOCAB, stop: str | None = None, **options: Any
) -> str:
    """prompt and its continuation: n_chars long, or up to and including the stop character.
    Options (temperature, generator) as in `stream`."""
    was_training = model.training
    model.eval()  # for LoRA's adapters, which may have dropout
    out = prompt
    for char in islice(stream(model, prompt, vocab, **options), n_chars):
        out += char
        if char == stop:
            break
    model.train(was_training)
    return out


def pretrain(model: CharLM, data: Tensor, recipe: Mapping[str, Any], progress: Progress) -> None:
    """Adam with a cosine decay to 10%: enough for the model to recite most of task A."""
    steps, lr = recipe["steps"], recipe["lr"]
    gen = torch.Generator().manual_seed(recipe["seed"])
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    for step in range(steps):
        set_lr(opt, lr * (0.55 + 0.45 * math.cos(math.pi * step / steps)))
        x, y = random_batch(data, recipe["batch_size"], model.cfg.block_size, gen)
        loss = lm_loss(model, x, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        progress(step + 1, steps)


@reproducible
def build_base(path: Path, recipe: Mapping[str, Any], progress: Progress) -> None:
    """The artifact's builder: pretrain the base model on task A and save it (config and weights)."""
    # PyTorch's default init: this base predates init_weights, and keeping it keeps its weights.
    model = new_model(CharLMConfig(vocab_size=len(VOCAB), **recipe["config"]), recipe["seed"], gpt2_init=False)
    pretrain(model, VOCAB.encode(TEXT_A), recipe, progress)
    save_model(model, path)


@reproducible
def build_english_base(path: Path, recipe: Mapping[str, Any], progress: Progress) -> None:
    """The artifact's builder: pretrain on the English corpus's training split (never its
    validation split, on which the playgrounds measure forgetting) and save the model."""
    if recipe["vocab"] != "".join(LM_VOCAB.chars):
        raise ValueError("the recipe's vocabulary must be the one the demos encode with (LM_VOCAB)")
    model = new_model(CharLMConfig(vocab_size=len(LM_VOCAB), **recipe["config"]), recipe["seed"])
    pretrain(model, LM_VOCAB.encode(texts.ENGLISH_TRAIN), recipe, progress)
    save_model(model, path)


def save_model(model: CharLM, path: Path) -> None:
    save({"config": asdict(model.cfg), "state": model.state_dict()}, path)


def load_model(path: Path) -> CharLM:
    """A saved model (on the CPU, in eval mode, all weights trainable)."""
    saved = torch.load(path, map_location="cpu", weights_only=True)
    model = CharLM(CharLMConfig(**saved["config"]))
    model.load_state_dict(saved["state"])
    return model.eval()
