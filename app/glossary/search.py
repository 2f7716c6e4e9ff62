"""Full-text search over the terms: SQLite FTS5 for ranking, a trigram index for typos.

Ranking is in tiers, then BM25 within a tier: an exact name (slug, title, alias or
acronym) first, then a name that is the query up to word endings ("finetune" is the
alias "finetuning": the same Porter stems, though not a prefix of it), then matches in
title or aliases, then in the summary, then the body.
A query word that appears nowhere is replaced by the closest indexed word (edit
distance over candidates from the trigram index), so "gradeint" still finds "gradient".
"""

from __future__ import annotations

import bisect
import html
import re
import sqlite3
import threading
from dataclasses import dataclass

from app.glossary.content import Glossary, Term
from app.glossary.markdown import slugify
from app.glossary.math_text import formula_text

MAX_QUERY = 200
_WORD = re.compile(r"\w+", re.UNICODE)
_MARKDOWN = re.compile(
    r"(?P<math>\$\$.*?\$\$|\$[^$\n]+\$)|\[(?P<link_text>[^\]]*)\]\([^)]*\)|(?P<markup>[#*_`>\[\]|])", re.S
)
"""A formula, a link or a markup character: one pass, so a formula's own brackets stay."""
_HIT_START, _HIT_END = "\x02", "\x03"


@dataclass(frozen=True)
class Hit:
    term: Term
    snippet_html: str
    corrected: tuple[str, ...]
    """Query words that were replaced by the closest indexed word, e.g. ('gradient',)."""
    searched: str
    """The query as searched, corrections in place: 'learning rat' for 'lerning rat'."""
    by_name: bool = False
    """The term was found by its names (title, aliases, slug), not only in its summary or body."""


def _plain_body(markdown: str) -> str:
    return _MARKDOWN.sub(_as_plain_text, markdown)


def _as_plain_text(match: re.Match) -> str:
    if match["math"]:
        source = match["math"]
        return f" {formula_text(source.strip('$').strip(), display=source.startswith('$$'))} "
    if match["link_text"] is not None:
        return match["link_text"]  # no gap before the comma that follows a link
    return " "


def damerau_levenshtein(a: str, b: str) -> int:
    """Edit distance counting a swap of two neighbouring letters as one edit."""
    rows = [list(range(len(b) + 1))]
    for i in range(1, len(a) + 1):
        row = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            row[j] = min(rows[i - 1][j] + 1, row[j - 1] + 1, rows[i - 1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                row[j] = min(row[j], rows[i - 2][j - 2] + 1)
        rows.append(row)
    return rows[-1][-1]


class SearchIndex:
    def __init__(self, glossary: Glossary) -> None:
        self._terms = glossary.terms
        self._names = {slugify(t.meta.title): t.slug for t in glossary.terms.values()}
        self._names.update({slug: slug for slug in glossary.terms})
        self._names.update(glossary.aliases)
        self._lock = threading.Lock()  # one in-memory connection shared by the thread pool
        self._db = sqlite3.connect(":memory:", check_same_thread=False)
        self._build()

    def _build(self) -> None:
        db = self._db
        db.execute(
            "CREATE VIRTUAL TABLE docs USING fts5("
            "slug UNINDEXED, title, aliases, summary, body, tokenize='porter unicode61 remove_diacritics 2')"
        )
        db.execute("CREATE VIRTUAL TABLE words USING fts5(word, tokenize='trigram')")
        # Each name on a row of its own with its word count, so a match anchored at its first
        # word with as many words as the query is the whole name, compared stem by stem.
        db.execute(
            "CREATE VIRTUAL TABLE names USING fts5("
            "slug UNINDEXED, name, words UNINDEXED, tokenize='porter unicode61 remove_diacritics 2')"
        )
        vocabulary: set[str] = set()
        for term in self._terms.values():
            row = (
                term.slug,
                term.meta.title,
                " ".join([*term.meta.aliases, term.slug.replace("-", " ")]),
                term.meta.summary,
                _plain_body(term.source),
            )
            db.execute("INSERT INTO docs VALUES (?, ?, ?, ?, ?)", row)
            for name in (term.meta.title, *term.meta.aliases, term.slug.replace("-", " ")):
                db.execute("INSERT INTO names VALUES (?, ?, ?)", (term.slug, name, len(_WORD.findall(name))))
            vocabulary.update(w.lower() for text in row[1:] for w in _WORD.findall(text) if len(w) > 1)
        db.executemany("INSERT INTO words VALUES (?)", [(w,) for w in sorted(vocabulary)])
        self._vocabulary = sorted(vocabulary)

    def search(self, query: str, limit: int = 20) -> list[Hit]:
        words = [w.lower() for w in _WORD.findall(query)][:12]
        if not words:
            return []
        with self._lock:
            words, corrected = self._correct(words)
            ranked = self._ranked(words)
            named = self._named_up_to_endings(words)
        exact = self._names.get(slugify(query)) or self._names.get(slugify(" ".join(words)))
        if exact:
            ranked = [(exact, "", 0)] + [hit for hit in ranked if hit[0] != exact]
        else:  # a stable sort: the names first, each tier in its own order
            ranked = sorted(ranked, key=lambda hit: hit[0] not in named)
        searched = " ".join(words)
        return [
            Hit(self._terms[slug], snip, tuple(corrected), searched, by_name=tier == 0)
            for slug, snip, tier in ranked[:limit]
        ]

    def _correct(self, words: list[str]) -> tuple[list[str], list[str]]:
        fixed, corrected = [], []
        for word in words:
            if self._starts_a_word(word):
                fixed.append(word)
                continue
            better = self._closest(word)
            fixed.append(better or word)
            if better:
                corrected.append(better)
        return fixed, corrected

    def _starts_a_word(self, word: str) -> bool:
        """True if `word` is an indexed word or the start of one ("grad" while typing "gradient")."""
        i = bisect.bisect_left(self._vocabulary, word)
        return i < len(self._vocabulary) and self._vocabulary[i].startswith(word)

    def _closest(self, word: str) -> str | None:
        if len(word) < 4:
            return None  # too short to guess what was meant
        # A swap of neighbouring letters breaks every trigram across it ("qlroa" shares none with
        # "qlora"), so the trigrams of each one-swap variant fetch candidates as well.
        spellings = {word} | {word[:i] + word[i + 1] + word[i] + word[i + 2 :] for i in range(len(word) - 1)}
        grams = {s[i : i + 3] for s in spellings for i in range(len(s) - 2)}
        expr = " OR ".join(f'"{g}"' for g in grams)
        candidates = [
            r[0] for r in self._db.execute("SELECT word FROM words WHERE words MATCH ? ORDER BY rank LIMIT 40", (expr,))
        ]
        allowed = 1 if len(word) <= 5 else 2
        scored = sorted((damerau_levenshtein(word, c), -len(c), c) for c in candidates)
        return scored[0][2] if scored and scored[0][0] <= allowed else None

    def _named_up_to_endings(self, words: list[str]) -> set[str]:
        """Terms with a name whose words have the query's stems, in order, and no others."""
        phrase = " ".join(words)
        rows = self._db.execute(
            "SELECT slug FROM names WHERE names MATCH ? AND words = ?", (f'name : ^"{phrase}"', len(words))
        )
        return {slug for (slug,) in rows}

    def _ranked(self, words: list[str]) -> list[tuple[str, str, int]]:
        # Every word first; when no term has them all, any of them (a 404's slug, say).
        return self._ranked_by(" AND ".join(f'"{w}"*' for w in words)) or self._ranked_by(
            " OR ".join(f'"{w}"*' for w in words)
        )

    def _ranked_by(self, match: str) -> list[tuple[str, str, int]]:
        """(slug, snippet, tier) of each term that matches: tier 0 by a name, 1 the summary, 2 the body."""
        tiers = [("{title aliases}", 0), ("summary", 1), ("body", 2)]
        seen: dict[str, tuple[int, float, str]] = {}
        for column, tier in tiers:
            rows = self._db.execute(
                "SELECT slug, bm25(docs, 0, 10.0, 8.0, 3.0, 1.0), "
                f"snippet(docs, 4, '{_HIT_START}', '{_HIT_END}', '…', 14) "
                "FROM docs WHERE docs MATCH ?",
                (f"{column} : ({match})",),
            ).fetchall()
            for slug, score, snippet in rows:
                seen.setdefault(slug, (tier, score, snippet))
        ordered = sorted(seen.items(), key=lambda item: (item[1][0], item[1][1]))
        return [(slug, _snippet_html(snippet), tier) for slug, (tier, _score, snippet) in ordered]


def _snippet_html(snippet: str) -> str:
    escaped = html.escape(" ".join(snippet.split()))
    return escaped.replace(_HIT_START, "<mark>").replace(_HIT_END, "</mark>")
