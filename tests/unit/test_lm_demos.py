"""The language-model playgrounds (pretraining, fine-tuning, SFT, instruction tuning), run in-process."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from pydantic import ValidationError

from app.demos import load_demos
from app.demos.base import Demo, InlineControl, Point, run_inline
from app.ml import charlm, texts

torch.set_num_threads(1)

LM_DEMOS = ["pretraining", "sft", "fine-tuning", "instruction-tuning"]


@pytest.fixture(scope="module")
def demos() -> dict[str, Demo]:
    return load_demos()


def run(demo: Demo, **params: object) -> tuple[list[Point], dict, InlineControl]:
    return run_inline(demo, demo.Params(pace=0, **params))


@pytest.mark.parametrize("name", LM_DEMOS)
def test_every_number_is_bounded_and_titled(demos: dict[str, Demo], name: str) -> None:
    for field_name, schema in demos[name].Params.model_json_schema()["properties"].items():
        assert "title" in schema and "description" in schema, field_name
        if schema.get("type") in {"integer", "number"}:
            assert {"minimum", "exclusiveMinimum"} & schema.keys(), field_name
            assert {"maximum", "exclusiveMaximum"} & schema.keys(), field_name


def test_one_vocabulary_covers_every_text() -> None:
    vocab = charlm.LM_VOCAB
    assert len(vocab) == len(set(texts.LM_TEXT))
    everything = texts.ENGLISH + texts.FORECAST + "".join(a + b for p, r in texts.CHATS for a, b in [texts.chat(p, r)])
    assert set(everything) <= set(vocab.chars)
    assert vocab.decode(vocab.encode(texts.ENGLISH_VAL)) == texts.ENGLISH_VAL


def test_validation_splits_are_held_out() -> None:
    for text, train, val in [
        (texts.ENGLISH, texts.ENGLISH_TRAIN, texts.ENGLISH_VAL),
        (texts.FORECAST, texts.FORECAST_TRAIN, texts.FORECAST_VAL),
    ]:
        assert train + "\n" + val == text and val and train
        assert val.splitlines()[0] not in train  # its first paragraph or line is nowhere in training
    assert not {p for p, _ in texts.CHATS_VAL} & {p for p, _ in texts.CHATS_TRAIN}


# ---- pretraining ----


def test_pretraining_starts_at_the_uniform_guess(demos: dict[str, Demo]) -> None:
    points, _, control = run(demos["pretraining"], steps=2, d_model=32, n_layer=1)
    facts = control.facts
    V = len(charlm.LM_VOCAB)
    assert facts["vocab_size"] == V and facts["uniform_loss"] == math.log(V)
    # Small initial weights make the logits nearly equal: the first loss is that of a uniform guess.
    assert points[0]["loss"] == pytest.approx(math.log(V), abs=0.03)
    assert points[0]["val_loss"] == pytest.approx(math.log(V), abs=0.03)
    assert all(p["uniform_loss"] == math.log(V) for p in points)
    # Parameters counted from the architecture: embeddings, one block, final norm, head.
    d, T = 32, 64
    block = 2 * 2 * d + (d * 3 * d + 3 * d) + (d * d + d) + (d * 4 * d + 4 * d) + (4 * d * d + d)
    assert facts["n_params"] == V * d + T * d + block + 2 * d + d * V + V
    assert (facts["train_chars"], facts["val_chars"]) == (len(texts.ENGLISH_TRAIN), len(texts.ENGLISH_VAL))


def test_pretraining_learns_and_samples(demos: dict[str, Demo]) -> None:
    points, summary, _ = run(demos["pretraining"], steps=60, batch_size=8, temperature=0.5)
    assert [p["step"] for p in points] == list(range(60))
    assert [p["tokens"] for p in points[:2]] == [8 * 64, 2 * 8 * 64]
    losses = [p["loss"] for p in points]
    assert sum(losses[-5:]) / 5 < 0.75 * losses[0]
    # Validation every 10 steps (and the last); the points in between carry the last value.
    val = [p["val_loss"] for p in points]
    assert all(val[s] == val[s - s % 10] for s in range(59))
    assert val[50] < val[0] and summary["final"]["val_loss"] == val[-1]
    samples = {p["step"]: p["sample"] for p in points if "sample" in p}
    assert sorted(samples) == [3, 53, 59]  # started at steps 0 and 50; the last one ends on the last step
    assert all(s.startswith("The ") and len(s) == 4 + 80 for s in samples.values())


def test_pretraining_live_lr_and_seed(demos: dict[str, Demo]) -> None:
    demo = demos["pretraining"]
    params = demo.Params(steps=3, d_model=16, n_layer=1, seed=5)
    control = InlineControl(params)
    steps = demo.steps(params, control)
    assert next(steps)["lr"] == params.lr
    control.change(lr=1e-4)
    assert next(steps)["lr"] == 1e-4
    first, _, _ = run(demo, steps=4, d_model=16, n_layer=1, seed=5)
    again, _, _ = run(demo, steps=4, d_model=16, n_layer=1, seed=5)
    other, _, _ = run(demo, steps=4, d_model=16, n_layer=1, seed=6)
    assert first == again and first[0]["loss"] != other[0]["loss"]


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"d_model": 40}, "d_model"),
        ({"d_model": 256}, "d_model"),
        ({"n_layer": 5}, "n_layer"),
        ({"lr": 0}, "lr"),
        ({"batch_size": 0}, "batch_size"),
        ({"temperature": -1}, "temperature"),
        ({"pace": 241}, "pace"),
    ],
)
def test_pretraining_bad_params_name_the_field(demos: dict[str, Demo], raw: dict, field: str) -> None:
    with pytest.raises(ValidationError) as info:
        demos["pretraining"].parse(raw)
    assert info.value.errors()[0]["loc"][0] == field


def test_temperature_zero_is_greedy_and_sampling_follows_softmax() -> None:
    model = charlm.new_model(charlm.CharLMConfig(len(charlm.LM_VOCAB), n_layer=1, d_model=16), seed=0)
    with torch.no_grad():
        model.head.bias[-1] = 10.0  # a clear favourite
    vocab = charlm.LM_VOCAB
    greedy = charlm.generate(model, "ab", 5, vocab)
    assert greedy == "ab" + vocab.chars[-1] * 5
    # At temperature T, characters are drawn in proportion to exp(logit / T): count them.
    gen = torch.Generator().manual_seed(0)
    draws = [next(charlm.stream(model, "ab", vocab, 2.0, gen)) for _ in range(3000)]
    with torch.no_grad():
        probs = F.softmax(model(vocab.encode("ab")[None])[0, -1] / 2.0, -1)
    top = vocab.chars[-1]
    assert draws.count(top) / 3000 == pytest.approx(probs[-1].item(), abs=0.03)


# ---- SFT ----


def tiny_model(seed: int = 0, block_size: int = 16) -> charlm.CharLM:
    cfg = charlm.CharLMConfig(len(charlm.LM_VOCAB), block_size=block_size, n_layer=1, d_model=16)
    return charlm.new_model(cfg, seed)


def test_masked_loss_is_the_cross_entropy_over_response_positions_only() -> None:
    model = tiny_model()
    with torch.no_grad():
        model.head.weight.normal_(0, 1.0)  # logits far from uniform, so every position differs
    gen = torch.Generator().manual_seed(0)
    V = len(charlm.LM_VOCAB)
    x, y = torch.randint(V, (3, 16), generator=gen), torch.randint(V, (3, 16), generator=gen)
    mask = (torch.rand(3, 16, generator=gen) < 0.4).long()
    loss = charlm.masked_lm_loss(model, x, y, mask)

    # By hand: -log softmax(logits)[target], averaged over the kept positions of the whole batch.
    logits = model(x).tolist()
    kept = [
        -(logits[b][t][y[b, t]] - math.log(sum(math.exp(v) for v in logits[b][t])))
        for b in range(3)
        for t in range(16)
        if mask[b, t]
    ]
    assert loss.item() == pytest.approx(sum(kept) / len(kept), rel=1e-5)

    # Masked targets contribute nothing: change every one of them and neither the loss nor a
    # single gradient moves.
    loss.backward()
    grads = [q.grad.clone() for q in model.parameters()]
    model.zero_grad()
    y_other = torch.where(mask.bool(), y, (y + 1) % V)
    again = charlm.masked_lm_loss(model, x, y_other, mask)
    again.backward()
    assert again.item() == loss.item()
    assert all(torch.equal(g, q.grad) for g, q in zip(grads, model.parameters(), strict=True))


# ---- fine-tuning ----


def test_fine_tuning_pretrained_starts_below_scratch(demos: dict[str, Demo]) -> None:
    points, summary, control = run(demos["fine-tuning"], steps=3, new_chars=500)
    assert control.facts["new_chars"] == 500
    first = {p["series"]: p for p in points[:2]}
    assert first.keys() == {"pretrained", "scratch"}
    # The base already knows English letters and words: its loss on the new domain starts far
    # below the scratch model's, which starts at a uniform guess.
    V = len(charlm.LM_VOCAB)
    assert first["scratch"]["val_loss"] == pytest.approx(math.log(V), abs=0.05)
    assert first["pretrained"]["val_loss"] < first["scratch"]["val_loss"] - 0.5
    assert first["pretrained"]["val_loss_english"] < first["pretrained"]["val_loss"]
    # The English loss is that of the base on the English validation windows, computed here again.
    from app.demos.base import default_artifacts
    from app.demos.recipes import ENGLISH_BASE

    base = charlm.load_model(default_artifacts().ensure(ENGLISH_BASE))
    x, y = charlm.fixed_batch(charlm.LM_VOCAB.encode(texts.ENGLISH_VAL), 16, 64)
    assert first["pretrained"]["val_loss_english"] == pytest.approx(charlm.eval_loss(base, x, y), rel=1e-5)
    assert summary["final"].keys() == {"pretrained", "scratch"}


def test_fine_tuning_frozen_layers_and_no_scratch(demos: dict[str, Demo]) -> None:
    points, _, control = run(demos["fine-tuning"], steps=2, frozen_layers=1, compare_scratch=False)
    assert {p["series"] for p in points} == {"pretrained"}
    V, d, T = len(charlm.LM_VOCAB), 64, 64
    block = 2 * 2 * d + (d * 3 * d + 3 * d) + (d * d + d) + (d * 4 * d + 4 * d) + (4 * d * d + d)
    total = V * d + T * d + 2 * block + 2 * d + d * V + V
    assert control.facts["n_params"] == total
    # Frozen: both embeddings and the lower block. Trainable: the upper block, final norm and head.
    assert control.facts["trainable_params"] == {"pretrained": total - V * d - T * d - block}


def test_fine_tuning_learns_the_new_domain_and_forgets_english(demos: dict[str, Demo]) -> None:
    points, _, _ = run(demos["fine-tuning"], steps=40, lr=3e-3, compare_scratch=False)
    assert points[-1]["val_loss"] < points[0]["val_loss"] - 0.8
    assert points[-1]["val_loss_english"] > points[0]["val_loss_english"] + 0.3
    # Greedy samples, before (an English continuation) and by the end (a forecast), on the last step.
    samples = {p["step"]: p["sample"] for p in points if "sample" in p}
    assert sorted(samples)[-1] == 39 and len(samples) == 2
    assert all(s.startswith("Esk Deep.") and len(s) == 9 + 100 for s in samples.values())


@pytest.mark.parametrize(
    ("raw", "field"),
    [({"frozen_layers": 3}, "frozen_layers"), ({"new_chars": 10}, "new_chars"), ({"new_chars": 10**6}, "new_chars")],
)
def test_fine_tuning_bad_params_name_the_field(demos: dict[str, Demo], raw: dict, field: str) -> None:
    with pytest.raises(ValidationError) as info:
        demos["fine-tuning"].parse(raw)
    assert info.value.errors()[0]["loc"][0] == field


# ---- instruction tuning ----


def reference_answer(task: str, word: str) -> str:
    """Each task once more, written differently from app.ml.texts."""
    if task == "first":
        return word[:1]
    if task == "last":
        return word[len(word) - 1 :]
    if task == "upper":
        return "".join(chr(ord(c) - 32) for c in word)
    if task == "reverse":
        out = ""
        for c in word:
            out = c + out
        return out
    if task == "sort":
        letters = list(word)
        letters.sort()
        return "".join(letters)
    return str(len([c for c in word if c in "aeiou"]))


def test_every_task_matches_a_plain_python_reference() -> None:
    assert set(texts.TASKS) == {"first", "last", "upper", "reverse", "sort", "vowels"}
    for task in texts.TASKS:
        for word in [*texts.HELD_OUT_WORDS, "zzzz", "aeio"]:
            assert texts.TASKS[task](word) == reference_answer(task, word), (task, word)
    prompt, answer = texts.example("vowels", "Count the vowels in", "idea")
    assert prompt.endswith("Count the vowels in: idea =") and len(prompt) == 40 + 7 and answer == " 3\n"


@pytest.mark.parametrize("tasks", [["first", "last"], ["upper", "vowels"], list(texts.TASKS)])
def test_a_run_lays_its_examples_out_as_narrow_as_its_phrasings_allow(tasks: list[str]) -> None:
    from app.training.instruction_tuning import eval_sets, layout, sample_examples

    width, row_length = layout(tasks)
    longest_phrasing = max(len(p) for t in tasks for p in texts.PHRASINGS[t])  # held-out ones included
    assert width == longest_phrasing + len(":")
    if tasks == ["first", "last"]:
        assert (width, row_length) == (len("Tell me how this word ends:"), 27 + len(" lamp = l\n") - 1)
    params = load_demos()["instruction-tuning"].Params(tasks=tasks, phrasings=6)
    trained = sample_examples(params, torch.Generator().manual_seed(0), width)
    evaluated = [row for t in tasks for rows in eval_sets(t, 6, width).values() for row in rows]
    examples = trained + evaluated
    # The word sits at the same place in every example of the run, and the longest fills a row.
    assert {len(prompt) for prompt, _ in examples} == {width + len(" lamp =")}
    assert {prompt[width + 1 : width + 5] for prompt, _ in evaluated} <= set(texts.HELD_OUT_WORDS)
    assert max(len(prompt + answer) for prompt, answer in examples) == row_length + 1
    charlm.encode_rows(examples, charlm.LM_VOCAB, row_length)  # every one fits


def test_exact_match_is_greedy_decoding_done_by_hand() -> None:
    model = tiny_model(seed=3, block_size=64)
    with torch.no_grad():
        model.head.weight.normal_(0, 1.0)  # decided, varied guesses
    vocab = charlm.LM_VOCAB
    prompts = [texts.instruction(p, w) for p, w in [("Shout the word", "lamp"), ("Sort this word", "tree")] * 3]
    greedy = [charlm.generate(model, prompt, 4, vocab)[len(prompt) :] for prompt in prompts]
    # Rows 0, 2, 4 ask for exactly what greedy decoding writes; rows 1, 3, 5 differ at one place each.
    answers = [
        g if i % 2 == 0 else g[: i // 2] + ("x" if g[i // 2] != "x" else "y") + g[i // 2 + 1 :]
        for i, g in enumerate(greedy)
    ]
    x, y, mask = charlm.encode_rows(list(zip(prompts, answers, strict=True)), vocab, 56)
    by_hand = [charlm.generate(model, p, len(a), vocab) == p + a for p, a in zip(prompts, answers, strict=True)]
    assert charlm.exact_match(model, x, y, mask).tolist() == by_hand == [True, False] * 3


def test_instruction_tuning_points_and_schedule(demos: dict[str, Demo]) -> None:
    from app.training.instruction_tuning import EVAL_EVERY, EVAL_WORDS

    tasks = ["upper", "vowels"]
    points, summary, control = run(demos["instruction-tuning"], tasks=tasks, phrasings=2, steps=EVAL_EVERY + 3)
    keys = {f"acc_{t}{s}" for t in tasks for s in ("", "_new_phrasing")}
    assert all(keys <= p.keys() for p in points) and summary["accuracy"].keys() == keys
    assert control.facts["phrasings"] == {t: texts.PHRASINGS[t][:2] for t in tasks}
    assert control.facts["held_out_phrasings"] == {t: texts.PHRASINGS[t][-2:] for t in tasks}
    n = len(EVAL_WORDS)
    assert all(round(p[k] * n) == pytest.approx(p[k] * n, abs=1e-4) for p in points for k in keys)
    # Before any update the base model knows none of the tasks.
    assert all(points[0][k] < 0.1 for k in keys)
    losses = [p["loss"] for p in points]
    assert sum(losses[-3:]) / 3 < 0.5 * losses[0]


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"tasks": []}, "tasks"),
        ({"tasks": ["upper", "upper"]}, "tasks"),
        ({"tasks": ["translate"]}, "tasks"),
        ({"phrasings": 0}, "phrasings"),
        ({"phrasings": 7}, "phrasings"),
    ],
)
def test_instruction_tuning_bad_params_name_the_field(demos: dict[str, Demo], raw: dict, field: str) -> None:
    with pytest.raises(ValidationError) as info:
        demos["instruction-tuning"].parse(raw)
    assert info.value.errors()[0]["loc"][0] == field
