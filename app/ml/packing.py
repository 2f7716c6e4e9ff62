"""Packing conversations for SFT, and answering many prompts at once, without crossing sequences.

Packing puts several sequences in one row of a batch so no compute is spent on padding. Two
things keep them apart, as TRL's packing does (its position ids restart at 0 for each sequence):
each character's position embedding counts from the start of its own sequence, and a
block-diagonal causal mask lets a character attend only to earlier characters of the same
sequence. Without them a window of a stream of conversations starts anywhere (mid-response, its
prompt missing) and its characters read the end of the conversation before.

The SFT conversations (83-151 characters) are longer than the model's context (64), so each is
cut into pieces of at most `context` characters: the first starts at the conversation, each next
one starts `context - overlap` later, and a target's loss is counted once, in the first piece
where it has at least `overlap` characters of its own conversation before it (in the first piece:
all of them). That is how the model reads a long conversation when it answers, too: through a
window of the last 64 characters (charlm.stream).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from app.ml import texts
from app.ml.charlm import CharLM, Vocab

PAD = -1  # the segment id of padding columns


@dataclass(frozen=True)
class Piece:
    """One window of one conversation: inputs, targets, whether each target is a response
    character, and whether its loss is counted here (not already counted in an earlier piece)."""

    x: Tensor
    y: Tensor
    response: Tensor
    counted: Tensor


@dataclass(frozen=True)
class Packed:
    """Pieces packed into rows: (rows, length) each. `segments` numbers the pieces of a row
    (PAD on padding); `positions` counts from 0 in each piece; response and counted as in Piece
    (0 on padding)."""

    x: Tensor
    y: Tensor
    positions: Tensor
    segments: Tensor
    response: Tensor
    counted: Tensor

    def mask(self) -> Tensor:
        return block_causal_mask(self.segments)


def block_causal_mask(segments: Tensor) -> Tensor:
    """(rows, 1, length, length) bool: column j may be attended from column i when both are in
    the same segment and j <= i. Padding attends to padding, so no row of the mask is empty."""
    same = segments[:, :, None] == segments[:, None, :]
    causal = torch.ones(segments.shape[1], segments.shape[1], dtype=torch.bool, device=segments.device).tril()
    return (same & causal)[:, None]


def encode_conversation(prompt: str, response: str, vocab: Vocab) -> tuple[Tensor, Tensor]:
    """(ids, is_response) of one conversation in the chat template; the response ends with the
    newline that closes the turn."""
    masked, kept = texts.chat(prompt, response)
    ids = vocab.encode(masked + kept)
    return ids, torch.cat([torch.zeros(len(masked), dtype=torch.long), torch.ones(len(kept), dtype=torch.long)])


def cut(ids: Tensor, is_response: Tensor, context: int, overlap: int) -> list[Piece]:
    """One sequence as pieces of at most `context` (input, target) pairs (see the module's doc)."""
    if not 0 <= overlap < context:
        raise ValueError(f"overlap must be in [0, {context}), got {overlap}")
    x, y, response = ids[:-1], ids[1:], is_response[1:]
    n, stride = len(x), context - overlap
    pieces = []
    start = 0
    while True:
        end = min(start + context, n)
        counted = torch.zeros(end - start, dtype=torch.long)
        counted[0 if start == 0 else overlap :] = 1
        pieces.append(Piece(x[start:end], y[start:end], response[start:end], counted))
        if end == n:
            return pieces
        start += stride


def pack(pieces: list[Piece], row_length: int) -> Packed:
    """Pieces into rows of row_length, each into the first row with room for it (in order)."""
    rows: list[list[Piece]] = []
    for piece in pieces:
        if len(piece.x) > row_length:
            raise ValueError(f"a piece of {len(piece.x)} characters does not fit a row of {row_length}")
        row = next((r for r in rows if sum(len(q.x) for q in r) + len(piece.x) <= row_length), None)
        if row is None:
            rows.append(row := [])
        row.append(piece)
    shape = (len(rows), row_length)
    out = {name: torch.zeros(shape, dtype=torch.long) for name in ("x", "y", "positions", "response", "counted")}
    out["segments"] = torch.full(shape, PAD, dtype=torch.long)
    for r, row in enumerate(rows):
        col = 0
        for s, piece in enumerate(row):
            span = slice(col, col + len(piece.x))
            out["x"][r, span], out["y"][r, span] = piece.x, piece.y
            out["response"][r, span], out["counted"][r, span] = piece.response, piece.counted
            out["positions"][r, span] = torch.arange(len(piece.x))
            out["segments"][r, span] = s
            col = span.stop
    return Packed(**out)


def pack_conversations(
    pairs: list[tuple[str, str]], vocab: Vocab, context: int, overlap: int, row_length: int
) -> Packed:
    pieces = [piece for pair in pairs for piece in cut(*encode_conversation(*pair, vocab), context, overlap)]
    return pack(pieces, row_length)


def token_nll(model: nn.Module, batch: Packed) -> Tensor:
    """Next-character cross-entropy (nats) at every column of a packed batch: (rows, length)."""
    device = batch.x.device
    logits = model(batch.x, batch.positions, batch.mask().to(device))
    return F.cross_entropy(logits.flatten(0, 1), batch.y.flatten(), reduction="none").view(batch.y.shape)


def to(batch: Packed, device: torch.device) -> Packed:
    return Packed(**{name: getattr(batch, name).to(device) for name in Packed.__dataclass_fields__})


@torch.no_grad()
def complete(
    model: CharLM,
    prompts: list[str],
    vocab: Vocab,
    max_chars: int,
    temperature: float,
    generator: torch.Generator | None = None,
    stop: str = "\n",
) -> list[str]:
    """Each prompt's continuation, up to and including `stop` or max_chars long, all prompts in
    one batch. Each row sees the last `block_size` characters of its own text (as charlm.stream
    does for one prompt), right-aligned: the padding on its left is a segment of its own, and
    positions count from the row's first real character, so padding changes nothing. Rows that
    have stopped go on being computed (one batch is cheaper than regrouping) and are cut after."""
    device = model.tok_emb.weight.device
    context = model.cfg.block_size
    encoded = [vocab.encode(p) for p in prompts]
    width = min(max(len(ids) for ids in encoded), context)
    # Left-padded windows; `length` counts each row's real characters, up to the context.
    window = torch.zeros(len(prompts), width, dtype=torch.long)
    for r, ids in enumerate(encoded):
        kept = ids[-width:]
        window[r, width - len(kept) :] = kept
    length = torch.tensor([min(len(ids), width) for ids in encoded])
    written = []
    for _ in range(max_chars):
        cols = torch.arange(window.shape[1])
        first_real = window.shape[1] - length[:, None]
        positions = (cols - first_real).clamp_min(0)
        segments = torch.where(cols >= first_real, 0, PAD)
        logits = model(window.to(device), positions.to(device), block_causal_mask(segments).to(device))[:, -1]
        if temperature == 0:
            chosen = logits.argmax(-1).cpu()
        else:
            probs = F.softmax(logits.float().cpu() / temperature, -1)
            chosen = torch.multinomial(probs, 1, generator=generator)[:, 0]
        written.append(chosen)
        window = torch.cat([window, chosen[:, None]], dim=1)[:, -context:]
        length = (length + 1).clamp_max(context)
        if all(stop in vocab.decode(torch.stack(written, 1)[r]) for r in range(len(prompts))):
            break
    replies = [vocab.decode(row) for row in torch.stack(written, 1)]
    return [reply[: reply.index(stop) + 1] if stop in reply else reply for reply in replies]


REPLY = re.compile(r" [A-Z][^\n]*[.!?]\n")


def ends_turn(reply: str) -> bool:
    """The reply closes its turn: it writes the newline that ends it (within the length allowed)."""
    return reply.endswith("\n")


def well_formed(reply: str) -> bool:
    """A reply in the template's form: a space, a capital, one line that ends a sentence (. ! ?),
    then the newline that ends the turn, as every response of the conversations does."""
    return REPLY.fullmatch(reply) is not None
