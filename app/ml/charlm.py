"""A tiny character-level transformer and the two tasks of the adaptation playgrounds.

Task A is plain English about training (our own sentences, below). Task B is the same text in
leetspeak ("th3 l34rn1ng r4t3"): a new style that a reader spots at once in a generated sample,
yet a small change for the model: four letters swapped for digits. The base model is
pretrained on task A once, deterministically, and cached on disk under a hash of everything
that shapes its weights, so every later run starts at once.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

CORPUS = " ".join(
    [
        "A language model learns by guessing the next character and being told how wrong it was.",
        "The loss measures that surprise, and gradient descent nudges every weight a little to make",
        "the surprise smaller. The learning rate sets the size of each nudge: too small and training",
        "crawls, too large and the loss jumps around or explodes. Adam keeps a running mean of each",
        "gradient and of its square, so every weight gets a step size of its own. Warmup starts with",
        "a tiny learning rate while those running means are still noisy, and a cosine schedule lowers",
        "it again near the end. A batch is a handful of examples whose gradients are averaged, which",
        "makes each step less noisy. Weight decay pulls weights toward zero, so the model prefers",
        "simple answers. Dropout switches off random units during training, so no unit can rely on",
        "one partner. Pretraining on a large text teaches a model grammar and facts; fine tuning then",
        "adapts it to a narrower task. Full fine tuning updates every weight and needs optimizer state",
        "for each of them. LoRA freezes the base weights and learns a small low rank update instead:",
        "two thin matrices whose product is added to a frozen layer. Because B starts at zero, the",
        "adapted model begins exactly where the base model was. QLoRA stores the frozen base in four",
        "bits, with a scale for every block of weights, and trains the same small adapters on top.",
        "Quantization rounds each weight to the nearest of a few levels, and NF4 places those levels",
        "where normally distributed weights are dense. A model that learns a new task can forget the",
        "old one; watching the old loss shows how much was lost. Evaluation on held out text tells us",
        "whether the model learned patterns or only memorized its examples. When the loss on training",
        "text falls but the held out loss rises, the model is overfitting. Gradient clipping caps the",
        "norm of the gradient, so one bad batch cannot throw the weights far away. Mixed precision runs",
        "most of the math in sixteen bits and keeps a master copy of the weights in thirty two bits.",
        "A checkpoint saves the weights and the optimizer state, so a long run can stop and resume.",
        "Tokens are the units a model reads; here every token is a single character, so the",
        "vocabulary is small. Attention lets each position look back at earlier positions and decide",
        "which ones matter. The feed forward layer then transforms each position on its own. Residual",
        "connections add each layer's output to its input, which keeps gradients flowing through deep",
        "stacks. Layer normalization rescales activations, so each layer sees numbers of a steady size.",
    ]
)


def to_task_b(text: str) -> str:
    """Task B's style: leetspeak, every a e i o (either case) written as 4 3 1 0."""
    return text.translate(str.maketrans("AaEeIiOo", "44331100"))


TEXT_A = CORPUS
TEXT_B = to_task_b(CORPUS)

# Shapes the cached weights together with the text: any change here means a new cache file.
PRETRAIN = {"steps": 600, "batch_size": 32, "lr": 3e-3, "seed": 1234, "version": 1}


class Vocab:
    """Characters <-> ids, over the union of both tasks so one embedding table serves both."""

    def __init__(self, text: str) -> None:
        self.chars = sorted(set(text))
        self.index = {c: i for i, c in enumerate(self.chars)}

    def __len__(self) -> int:
        return len(self.chars)

    def encode(self, text: str) -> Tensor:
        return torch.tensor([self.index[c] for c in text], dtype=torch.long)

    def decode(self, ids: Tensor) -> str:
        return "".join(self.chars[i] for i in ids.tolist())


VOCAB = Vocab(TEXT_A + TEXT_B)


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

    def attention(self, x: Tensor) -> Tensor:
        B, T, C = x.shape
        q, k, v = self.attn_qkv(x).split(C, dim=2)
        q, k, v = (t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) for t in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.attn_out(y.transpose(1, 2).reshape(B, T, C))

    def forward(self, x: Tensor) -> Tensor:
        x = x + self.attention(self.ln_1(x))
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

    def forward(self, idx: Tensor) -> Tensor:
        """Logits (B, T, vocab) for the next character at every position of idx (B, T)."""
        pos = torch.arange(idx.shape[1], device=idx.device)
        x = self.tok_emb(idx) + self.pos_emb(pos)
        for block in self.blocks:
            x = block(x)
        return self.head(self.ln_f(x))


def layer_names(model: nn.Module, groups: list[str] | tuple[str, ...]) -> list[str]:
    """Names of the layers in the given groups ("attn_qkv", ..., "head"), in model order.

    Matched by name, not type, so the layers are found again once quantized."""
    return [name for name, _ in model.named_modules() if name.split(".")[-1] in groups]


def lm_loss(model: nn.Module, x: Tensor, y: Tensor) -> Tensor:
    """Mean next-character cross-entropy (nats)."""
    logits = model(x)
    return F.cross_entropy(logits.flatten(0, 1), y.flatten())


def random_batch(data: Tensor, batch_size: int, block_size: int, gen: torch.Generator) -> tuple[Tensor, Tensor]:
    """batch_size random windows of data; targets are the inputs shifted by one character."""
    starts = torch.randint(len(data) - block_size, (batch_size,), generator=gen)
    return windows(data, starts, block_size)


def fixed_batch(data: Tensor, batch_size: int, block_size: int) -> tuple[Tensor, Tensor]:
    """Evenly spaced windows: the same batch every time, whatever the seed, so curves compare."""
    starts = torch.linspace(0, len(data) - block_size - 1, batch_size).long()
    return windows(data, starts, block_size)


def windows(data: Tensor, starts: Tensor, block_size: int) -> tuple[Tensor, Tensor]:
    x = torch.stack([data[i : i + block_size] for i in starts.tolist()])
    y = torch.stack([data[i + 1 : i + 1 + block_size] for i in starts.tolist()])
    return x, y


def eval_batch_a(batch_size: int = 32) -> tuple[Tensor, Tensor]:
    """The fixed task-A batch on which forgetting is measured (never trained on while adapting)."""
    return fixed_batch(VOCAB.encode(TEXT_A), batch_size, CharLMConfig.block_size)


@torch.no_grad()
def eval_loss(model: nn.Module, x: Tensor, y: Tensor) -> float:
    """lm_loss in eval mode (no dropout), leaving the model in the mode it was in."""
    was_training = model.training
    loss = lm_loss(model.eval(), x, y).item()
    model.train(was_training)
    return loss


@torch.no_grad()
def generate(model: CharLM, prompt: str, n_chars: int) -> str:
    """Greedy continuation of prompt: deterministic, so before/after samples compare fairly."""
    was_training = model.training
    model.eval()
    idx = VOCAB.encode(prompt).to(model.tok_emb.weight.device)[None]
    for _ in range(n_chars):
        logits = model(idx[:, -model.cfg.block_size :])[:, -1]
        idx = torch.cat([idx, logits.argmax(-1, keepdim=True)], dim=1)
    model.train(was_training)
    return VOCAB.decode(idx[0])


def pretrain(model: CharLM, data: Tensor) -> None:
    """Adam with a cosine decay to 10%: enough for the model to recite most of task A."""
    steps, lr = PRETRAIN["steps"], PRETRAIN["lr"]
    gen = torch.Generator().manual_seed(PRETRAIN["seed"])
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    for step in range(steps):
        for g in opt.param_groups:
            g["lr"] = lr * (0.55 + 0.45 * math.cos(math.pi * step / steps))
        x, y = random_batch(data, PRETRAIN["batch_size"], model.cfg.block_size, gen)
        loss = lm_loss(model, x, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()


def cache_key(cfg: CharLMConfig) -> str:
    """Hash of the text, the vocabulary, the architecture and the pretraining recipe."""
    blob = json.dumps([TEXT_A, VOCAB.chars, asdict(cfg), PRETRAIN], sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def pretrained_base(cache_dir: Path) -> CharLM:
    """The task-A base model (on the CPU, in eval mode, all weights trainable).

    Trained the first time it is needed and cached as cache_dir/charlm-<hash>.pt. The file is
    written to a temporary name and renamed into place, so two processes that race both end
    with a whole file (the same weights: training is seeded).
    """
    cfg = CharLMConfig(vocab_size=len(VOCAB))
    path = Path(cache_dir) / f"charlm-{cache_key(cfg)}.pt"
    with torch.random.fork_rng(devices=[]):  # a seeded init that leaves the caller's RNG alone
        torch.manual_seed(PRETRAIN["seed"])
        model = CharLM(cfg)
    if path.exists():
        model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    else:
        pretrain(model, VOCAB.encode(TEXT_A))
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
        os.close(fd)
        try:
            torch.save(model.state_dict(), tmp)
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
    return model.eval()
