"""Search ranking over the real content: names first, prefixes, typos, acronyms."""

from __future__ import annotations

import pytest

from app.demos import load_demos
from app.glossary.content import load_glossary
from app.glossary.search import SearchIndex, damerau_levenshtein
from app.settings import ROOT
from tests.support.content import write_category, write_term


@pytest.fixture(scope="module")
def index() -> SearchIndex:
    return SearchIndex(load_glossary([ROOT / "content"], load_demos()))


def top(index: SearchIndex, query: str) -> str:
    hits = index.search(query)
    assert hits, f"no results for {query!r}"
    return hits[0].term.slug


@pytest.mark.parametrize(
    ("query", "slug"),
    [
        ("gradient descent", "gradient-descent"),
        ("grad", "gradient-descent"),  # prefix
        ("gradeint descent", "gradient-descent"),  # transposed letters
        ("distilation", "distillation"),  # a missing letter
        ("DPO", "dpo"),
        ("SFT", "sft"),
        ("RLHF", "rlhf"),
        ("lora", "lora"),
        ("QLoRA", "qlora"),
        ("learning rate", "learning-rate"),
        ("backprop", "backpropagation"),
        ("knowledge distillation", "distillation"),
        ("chinchilla", "scaling-laws"),
        ("reward model", "reward-model"),
    ],
)
def test_the_expected_term_ranks_first(index: SearchIndex, query: str, slug: str) -> None:
    assert top(index, query) == slug


def test_tiers_title_then_summary_then_body(tmp_path) -> None:
    folder = write_category(tmp_path)
    write_term(folder, "in-body", body="The word zebra appears only here, many times: zebra zebra zebra.\n")
    write_term(folder, "in-summary", summary="A summary that mentions the zebra once.")
    write_term(folder, "zebra-crossing")
    index = SearchIndex(load_glossary([tmp_path], []))
    assert [h.term.slug for h in index.search("zebra")] == ["zebra-crossing", "in-summary", "in-body"]


def test_typo_reports_the_correction(index: SearchIndex) -> None:
    assert index.search("gradeint")[0].corrected == ("gradient",)


def test_the_searched_query_keeps_the_words_that_needed_no_correction(index: SearchIndex) -> None:
    hit = index.search("lerning rat")[0]
    assert (hit.term.slug, hit.corrected, hit.searched) == ("learning-rate", ("learning",), "learning rat")


def test_a_transposition_in_a_short_word_is_corrected(index: SearchIndex) -> None:
    """'qlroa' shares no trigram with 'qlora': candidates come from its one-swap spellings too."""
    hit = index.search("qlroa")[0]
    assert (hit.term.slug, hit.corrected) == ("qlora", ("qlora",))


def test_snippets_show_formulas_as_text_not_holes(index: SearchIndex) -> None:
    snippets = [h.snippet_html for h in index.search("backward pass")]
    assert any("<mark>pass</mark>: 4ND ." in s for s in snippets), snippets


def test_nonsense_finds_nothing_and_empty_query_is_empty(index: SearchIndex) -> None:
    assert index.search("zzqxv") == []
    assert index.search("   ") == []


def test_snippets_are_escaped_html_with_marks(index: SearchIndex) -> None:
    hit = index.search("momentum")[0]
    assert "<mark>" in hit.snippet_html
    assert "<script" not in hit.snippet_html


def test_damerau_levenshtein_counts_a_swap_as_one_edit() -> None:
    assert damerau_levenshtein("gradeint", "gradient") == 1
    assert damerau_levenshtein("distilation", "distillation") == 1
    assert damerau_levenshtein("abc", "abc") == 0
    assert damerau_levenshtein("kitten", "sitting") == 3


def test_when_no_term_has_every_word_any_word_will_do(index: SearchIndex) -> None:
    slugs = [h.term.slug for h in index.search("zzqxv lora")]
    assert slugs[0] == "lora"


@pytest.mark.parametrize("query", ["finetune", "finetuned", "finetunes"])
def test_a_name_up_to_its_word_endings_ranks_first(index: SearchIndex, query: str) -> None:
    """'finetune' is not a prefix of the alias 'finetuning', but it has the same stem: the
    name match puts Fine-tuning above SFT and Instruction Tuning, which only contain it."""
    assert top(index, query) == "fine-tuning"


def test_a_stemmed_name_match_is_the_whole_name_in_order(tmp_path) -> None:
    """BM25 alone puts the title that repeats the words first; the name match puts the term
    whose alias is the query up to endings first, and neither a longer name nor the same
    words in another order counts as the name."""
    folder = write_category(tmp_path)
    write_term(folder, "workshop", title="Tuning Fork Tuning Fork Workshop")
    write_term(folder, "reversed", title="Fork Tuning")
    write_term(folder, "yonder", aliases=["tuning forks"])
    index = SearchIndex(load_glossary([tmp_path], []))
    slugs = [h.term.slug for h in index.search("tuned fork")]
    assert slugs[0] == "yonder" and sorted(slugs[1:]) == ["reversed", "workshop"]
