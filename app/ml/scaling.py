"""Text and models for the compute and scaling playgrounds: character transformers of any width.

The models are app.ml.charlm's CharLM with a head size of 8, so the width sets the number of
heads. The text is our own English prose (corpora/scaling.txt, about 30 KB), longer and more
varied than the adaptation playgrounds' paragraph, split by paragraph into training text and
held-out text the models never train on.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor

from app.ml.charlm import CharLM, CharLMConfig, Vocab

CORPUS_FILE = Path(__file__).parent / "corpora" / "scaling.txt"
HEAD_SIZE = 8
HELD_OUT_EVERY = 10  # every 10th paragraph is held out: about 10% of the text, from all over it


@dataclass(frozen=True)
class Corpus:
    vocab: Vocab
    train: Tensor
    val: Tensor


def scaling_text() -> str:
    return CORPUS_FILE.read_text(encoding="utf-8")


@functools.cache
def load_corpus() -> Corpus:
    text = scaling_text()
    paragraphs = text.strip().split("\n\n")
    train = "\n\n".join(p for i, p in enumerate(paragraphs) if i % HELD_OUT_EVERY != HELD_OUT_EVERY - 1)
    val = "\n\n".join(p for i, p in enumerate(paragraphs) if i % HELD_OUT_EVERY == HELD_OUT_EVERY - 1)
    vocab = Vocab(text)
    return Corpus(vocab, vocab.encode(train), vocab.encode(val))


def make_model(vocab_size: int, width: int, depth: int, seq_len: int, seed: int) -> CharLM:
    """A freshly initialised CharLM; the seed fixes the initial weights, not the caller's RNG."""
    cfg = CharLMConfig(
        vocab_size=vocab_size, block_size=seq_len, n_layer=depth, n_head=width // HEAD_SIZE, d_model=width
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return CharLM(cfg)
