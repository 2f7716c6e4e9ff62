"""Packing for SFT: pieces of a conversation, rows that never attend across sequences, batched replies."""

from __future__ import annotations

import pytest
import torch

from app.ml import charlm, packing, texts

torch.set_num_threads(1)
VOCAB = charlm.LM_VOCAB


@pytest.fixture(scope="module")
def model() -> charlm.CharLM:
    # Random weights, scaled up so every character's logits depend visibly on its context.
    cfg = charlm.CharLMConfig(vocab_size=len(VOCAB), block_size=64, n_layer=2, n_head=4, d_model=32)
    m = charlm.new_model(cfg, seed=3)
    with torch.no_grad():
        for p in m.parameters():
            p.mul_(10)
    return m.eval()


def test_pieces_count_every_target_once_with_its_conversation_before_it() -> None:
    for prompt, response in texts.CHATS[:12]:
        ids, is_response = packing.encode_conversation(prompt, response, VOCAB)
        pieces = packing.cut(ids, is_response, context=64, overlap=32)
        assert all(len(p.x) <= 64 for p in pieces)
        # The counted targets, in order, are the whole conversation shifted by one: each once.
        counted = torch.cat([p.y[p.counted.bool()] for p in pieces])
        assert torch.equal(counted, ids[1:])
        flags = torch.cat([p.response[p.counted.bool()] for p in pieces])
        assert VOCAB.decode(ids[1:][flags.bool()]) == f" {response}\n"
        # Each piece is a window of the conversation's own characters; a later piece counts only
        # targets with at least `overlap` characters before them in the piece.
        for k, p in enumerate(pieces):
            start = k * 32
            assert torch.equal(p.x, ids[start : start + len(p.x)])
            first_counted = int(p.counted.argmax())
            assert first_counted == (0 if k == 0 else 32)


def test_a_row_never_attends_across_conversations(model: charlm.CharLM) -> None:
    a, b = texts.CHATS[0], texts.CHATS[1]
    changed_a = ("Why is grass green at noon?", a[1])
    rows = packing.pack_conversations([a, b], VOCAB, context=32, overlap=16, row_length=512)
    rows_changed = packing.pack_conversations([changed_a, b], VOCAB, context=32, overlap=16, row_length=512)
    assert rows.x.shape[0] == 1  # both conversations share the row
    with torch.no_grad():
        logits = model(rows.x, rows.positions, rows.mask())
        logits_changed = model(rows_changed.x, rows_changed.positions, rows_changed.mask())
    # b's pieces are the last segments of the row; a's change moves them by its change in length.
    n_a = len(packing.cut(*packing.encode_conversation(*a, VOCAB), 32, 16))
    b_cols = rows.segments[0] >= n_a
    b_cols_changed = rows_changed.segments[0] >= len(
        packing.cut(*packing.encode_conversation(*changed_a, VOCAB), 32, 16)
    )
    assert not torch.equal(logits[0][~b_cols][:10], logits_changed[0][~b_cols_changed][:10])  # a changed
    torch.testing.assert_close(
        logits[0][b_cols], logits_changed[0][b_cols_changed], rtol=1e-5, atol=2e-4
    )  # another attention kernel: float32 rounding


def test_positions_restart_in_every_piece(model: charlm.CharLM) -> None:
    pairs = texts.CHATS[:3]
    rows = packing.pack_conversations(pairs, VOCAB, context=64, overlap=32, row_length=192)
    pieces = [p for pair in pairs for p in packing.cut(*packing.encode_conversation(*pair, VOCAB), 64, 32)]
    with torch.no_grad():
        packed = model(rows.x, rows.positions, rows.mask())
    found = 0
    for r in range(rows.x.shape[0]):
        for s in rows.segments[r].unique().tolist():
            if s == packing.PAD:
                continue
            cols = rows.segments[r] == s
            assert torch.equal(rows.positions[r][cols], torch.arange(int(cols.sum())))
            piece = next(p for p in pieces if torch.equal(p.x, rows.x[r][cols]))
            # The independent computation: the piece alone, as an ordinary causal sequence.
            with torch.no_grad():
                alone = model(piece.x[None])[0]
            torch.testing.assert_close(
                packed[r][cols], alone, rtol=1e-5, atol=2e-4
            )  # another attention kernel: float32 rounding
            found += 1
    assert found == len(pieces)


def test_packed_loss_is_cross_entropy_on_the_counted_targets(model: charlm.CharLM) -> None:
    rows = packing.pack_conversations(texts.CHATS[:4], VOCAB, context=64, overlap=32, row_length=128)
    nll = packing.token_nll(model, rows)
    expected = []
    for pair in texts.CHATS[:4]:
        for p in packing.cut(*packing.encode_conversation(*pair, VOCAB), 64, 32):
            with torch.no_grad():
                logits = model(p.x[None])[0]
            expected.append(torch.nn.functional.cross_entropy(logits, p.y, reduction="none")[p.counted.bool()])
    torch.testing.assert_close(nll[rows.counted.bool()].detach(), torch.cat(expected), rtol=1e-5, atol=1e-5)


def test_batched_replies_match_one_prompt_at_a_time(model: charlm.CharLM) -> None:
    # Prompts of different lengths, one past the 64-character context: padding changes nothing.
    prompts = [texts.chat_prompt(p) for p, _ in texts.CHATS_VAL[:3]] + ["x" * 70 + texts.chat_prompt("Hi?")]
    replies = packing.complete(model, prompts, VOCAB, max_chars=20, temperature=0)
    for prompt, reply in zip(prompts, replies, strict=True):
        alone = charlm.generate(model, prompt, 20, VOCAB, stop="\n", temperature=0)
        assert prompt + reply == alone


def test_reply_form() -> None:
    assert packing.well_formed(" Yes, it is.\n") and packing.ends_turn(" Yes, it is.\n")
    assert not packing.well_formed(" yes, it is.\n")  # no capital
    assert not packing.well_formed(" Yes, it is\n")  # the sentence is not ended
    assert not packing.well_formed(" Yes, it is. The")  # the turn is not closed
    assert not packing.ends_turn(" Yes, it is. The")
    assert all(packing.well_formed(texts.chat(p, r)[1]) for p, r in texts.CHATS)
