"""Texts we wrote for the language-model playgrounds (plain Python: no torch, safe to import anywhere).

Task A is plain English about training. Task B is the same text in leetspeak ("th3 l34rn1ng
r4t3"): a new style that a reader spots at once in a generated sample, yet a small change for the
model: four letters swapped for digits.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from pathlib import Path

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


def sha256(text: str) -> str:
    """Names a text in an artifact's recipe: any edit to it means a new artifact."""
    return hashlib.sha256(text.encode()).hexdigest()


# ---- The language-model playgrounds: pretraining, fine-tuning, SFT, instruction tuning ----
# Longer texts live as plain files in app/ml/corpora/, read once at import (a few tens of KB).

CORPORA = Path(__file__).with_name("corpora")


def _read(name: str) -> str:
    return (CORPORA / name).read_text(encoding="utf-8")


NEAR_CUT_CHARS = 200  # how far before the planned cut a line break or space may move it


def split(text: str, val_fraction: float, min_val_chars: int = 0) -> tuple[str, str]:
    """(train, val): the last val_fraction of the text (at least min_val_chars) is held out; the
    model never trains on it. The cut moves back to a line break, so no sentence is shared, or
    where none is near (a reader's pasted paragraph) to a space, or else stays where it is."""
    target = min(round(len(text) * (1 - val_fraction)), len(text) - min_val_chars - 1)
    for separator in ("\n", " "):
        cut = text.rfind(separator, 0, target)
        if cut >= max(target - NEAR_CUT_CHARS, 1):
            return text[:cut], text[cut + 1 :]
    return text[:target], text[target:]


ENGLISH = _read("english.txt")
"""Varied English prose for pretraining: a town, bread, a lighthouse keeper, rain, bees, ..."""
ENGLISH_TRAIN, ENGLISH_VAL = split(ENGLISH, 0.1)

FORECAST = _read("forecast.txt")
"""The fine-tuning domain: terse shipping forecasts for invented sea areas, a style no English
paragraph has ("Esk Deep. Southwest 5 to 7. Squally showers. Moderate or poor.")."""
FORECAST_TRAIN, FORECAST_VAL = split(FORECAST, 0.2)

USER, ASSISTANT = "User:", "Assistant:"
"""The chat template of the SFT playground: 'User: <prompt>\\nAssistant: <response>\\n'."""


def conversations() -> list[tuple[str, str]]:
    """The (prompt, response) pairs we wrote, in file order."""
    pairs = []
    for block in _read("conversations.txt").strip().split("\n\n"):
        user, assistant = block.split("\n")
        pairs.append((user.removeprefix(USER).strip(), assistant.removeprefix(ASSISTANT).strip()))
    return pairs


def chat_prompt(prompt: str) -> str:
    """What the model sees before it answers: the template up to the response."""
    return f"{USER} {prompt}\n{ASSISTANT}"


def chat(prompt: str, response: str) -> tuple[str, str]:
    """One conversation as (masked part, response part): the response ends with the newline that
    closes the turn, so the model learns where to stop."""
    return chat_prompt(prompt), f" {response}\n"


CHATS = conversations()
CHATS_TRAIN, CHATS_VAL = CHATS[:-8], CHATS[-8:]

# Instruction tuning: one model, tiny tasks chosen by the instruction's words. Each task is
# plain Python, so its answers (and the tests' reference) need no model.
TASKS: dict[str, Callable[[str], str]] = {
    "first": lambda word: word[0],
    "last": lambda word: word[-1],
    "reverse": lambda word: word[::-1],
    "upper": str.upper,
    "sort": lambda word: "".join(sorted(word)),
    "vowels": lambda word: str(sum(c in "aeiou" for c in word)),
}
PHRASINGS: dict[str, list[str]] = {
    # The last two of each task are held out: never trained on, to see whether the model
    # understands the instruction or only memorised its exact wording. A run trains on the first
    # few. For first and last letter those end on the word that names the task ("starts",
    # "ends"): right-aligned, it sits at a fixed distance before the answer, where the two-layer
    # model finds it in a few hundred steps; with "First letter of" among them (the task word 15
    # characters back) 500 steps stay near 50%, each task answered with the other's letter.
    "first": [
        "What letter starts",
        "Which letter begins",
        "First letter of",
        "Give the first letter of",
        "Start letter of",
        "Name the first letter in",
        "Tell me the initial of",
        "The opening letter of",
    ],
    "last": [
        "What letter ends",
        "Which letter closes",
        "Last letter of",
        "Give the last letter of",
        "End letter of",
        "Name the final letter in",
        "Tell me how this word ends",
        "The closing letter of",
    ],
    "reverse": [
        "Reverse the word",
        "Write this backwards",
        "Spell it back to front",
        "Flip the letters of",
        "Turn around the word",
        "Give the reverse of",
        "Read this word backwards",
        "Reverse the letters in",
    ],
    "upper": [
        "Write in capitals",
        "Upper case the word",
        "Make this loud",
        "Capitalise every letter of",
        "Shout the word",
        "Change to upper case",
        "Put in capital letters",
        "Write this word in capitals",
    ],
    "sort": [
        "Sort the letters of",
        "Put the letters in order",
        "Alphabetise the letters of",
        "Order the letters of",
        "Arrange alphabetically",
        "List the letters sorted",
        "Sort this word",
        "Put these letters in alphabetical order",
    ],
    "vowels": [
        "Count the vowels in",
        "How many vowels are in",
        "Number of vowels in",
        "Tell me the vowel count of",
        "Count vowels",
        "How many vowels has",
        "Count the vowels of the word",
        "Give the number of vowels in",
    ],
}
HELD_OUT_PHRASINGS = 2
WORDS = str.split(
    "ant arm art bag bat bed bee box boy bus cap car cat cow cup day dog ear egg elf eye fan fig fox gum hat "
    "hen hill ice ink jam jar jet key kid kit leg lip log map mud net nut oak owl pan pen pig pin pot rat "
    "rug sea sun tea toe top toy van web wig yak zoo able acid also atom baby bake bark barn bear bell bird "
    "boat bone book cake calm cave city coat code cold corn crab deer desk dice door dove drum duck dust "
    "farm fish flag frog game gate gift goat gold hand harp home horn idea iron kite lake lamp leaf lion "
    "mail milk moon nose oven page park pear rain ring road robe rock roof rope salt sand seed ship shoe "
    "silk snow soap sock soup star tent tide tree wave wind wolf wool yard apple beach bread chair cloud "
    "dream field glass horse house juice lemon music ocean paint piano plant quiet river sheep stone table "
    "tiger train water"
)
WORD_LENGTH = 4
HELD_OUT_WORDS = [w for w in WORDS if len(w) == WORD_LENGTH]
"""Real words the instruction-tuned model is tested on; it trains on random strings of letters."""
INSTRUCTION_WIDTH = 40  # the longest phrasing of any task, and its colon


def instruction_width(tasks: Iterable[str]) -> int:
    """The narrowest layout that holds every phrasing of these tasks (held-out ones too) and its
    colon. A run lays out all its examples in it: padding the instruction to 40 characters when the
    tasks' phrasings need 27 is a third more characters for every step to push through the model."""
    return max(len(phrasing) + 1 for task in tasks for phrasing in PHRASINGS[task])


def instruction(phrasing: str, word: str, width: int = INSTRUCTION_WIDTH) -> str:
    """The input of one example, in a fixed-width layout: the instruction right-aligned in `width`
    characters, then the word. The word and the answer then sit at the same positions in every
    example, so a two-layer model can find them by position; with a free layout, copying needs a
    mechanism (an induction head) that takes it thousands of steps to learn. The answer follows,
    closed by a newline."""
    return f"{phrasing + ':':>{width}} {word} ="


def example(task: str, phrasing: str, word: str, width: int = INSTRUCTION_WIDTH) -> tuple[str, str]:
    """(prompt, answer) of one instruction example; only the answer is trained on."""
    return instruction(phrasing, word, width), f" {TASKS[task](word)}\n"


LM_TEXT = (
    "".join(
        [ENGLISH, FORECAST, *(p + r for p, r in CHATS), *(p for ps in PHRASINGS.values() for p in ps), " :=0123456789"]
    )
    + "".join(WORDS).upper()
)
"""Every character the four language-model playgrounds use: one vocabulary serves them all, so
the pretrained base can start each of them."""
