"""The panel's warning before a fine-tuning run on a reader's text finds the characters the run
will write as "?": the panel's JavaScript (vocabulary.js, run by the venv's Node) against the
training's own fit_to_vocab, on the vocabulary the declaration serves."""

from __future__ import annotations

import json

from app.demos import load_demos
from app.ml import charlm
from app.ml.own_text import PLACEHOLDER, fit_to_vocab
from app.settings import ROOT
from tests.unit.test_csv_format import node

VOCABULARY_JS = ROOT / "static" / "js" / "playground" / "vocabulary.js"


def declared_vocabulary() -> dict:
    return load_demos()["fine-tuning"].Params.model_json_schema()["properties"]["text"]["vocabulary"]


def panel_unknown(text: str, vocabulary: dict) -> list[list]:
    script = (
        f"import {{unknownChars}} from {json.dumps(VOCABULARY_JS.as_uri())}; import fs from 'fs';"
        "const {text, vocabulary} = JSON.parse(fs.readFileSync(0, 'utf8'));"
        "process.stdout.write(JSON.stringify(unknownChars(text, vocabulary)))"
    )
    return json.loads(node(script, {"text": text, "vocabulary": vocabulary}))


def test_the_declared_vocabulary_is_the_base_models() -> None:
    vocabulary = declared_vocabulary()
    assert vocabulary["chars"] == "".join(charlm.LM_VOCAB.chars) and vocabulary["placeholder"] == PLACEHOLDER


def test_the_panel_finds_what_the_training_replaces_with_the_same_counts() -> None:
    """Every character of Latin-1, Latin Extended, Greek, Cyrillic, Devanagari (spacing marks), the
    punctuation block, ligatures, full-width forms, some emoji: once, three times or five."""
    ranges = [(0x20, 0x24F), (0x370, 0x3FF), (0x400, 0x45F), (0x900, 0x97F), (0x2000, 0x206F), (0x2100, 0x215F)]
    ranges += [(0xFB00, 0xFB06), (0xFF01, 0xFF5E), (0x1F600, 0x1F60F)]
    chars = [chr(c) for low, high in ranges for c in range(low, high + 1) if chr(c).isprintable() or chr(c) in "\n\t"]
    text = "".join(char * (1 + 2 * (i % 3)) for i, char in enumerate(chars)) + "e\u0301 A\u030a"
    vocabulary = declared_vocabulary()
    _, replaced = fit_to_vocab(text, set(vocabulary["chars"]))
    assert len(replaced) > 500  # the test covers many unknown characters, not a handful
    assert panel_unknown(text, vocabulary) == [[char, n] for char, n in replaced.items()]


def test_a_text_in_the_vocabulary_or_its_look_alikes_warns_of_nothing() -> None:
    assert panel_unknown("“Café” — no: 'cafe'.\tÇa va", declared_vocabulary()) == [["—", 1]]
    assert panel_unknown("Plain words, 42 of them; fine.\n", declared_vocabulary()) == []
