"""Loading and validating the Markdown terms: content is data, and `modelterms check` proves it.

`content/<category>/<slug>.md` holds one term (YAML front matter, then Markdown);
`content/<category>/_category.md` describes its category. Every problem found is a
`Problem` with a file and line, so a writer can jump straight to it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from app.glossary.markdown import MarkdownRenderer, Rendered, slugify

if TYPE_CHECKING:
    from app.demos.base import Demo

LEVELS = ("beginner", "intermediate", "advanced")
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the C parser is ~10x faster at start-up
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


class Reference(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str = Field(min_length=1)
    authors: str = Field(min_length=1)
    year: int = Field(ge=1800, le=2100)
    url: str = Field(pattern=r"^https?://\S+$")


class Exercise(BaseModel):
    """A guided exercise: a question, the playground params that set it up, and its answer."""

    model_config = ConfigDict(extra="forbid")
    prompt: str = Field(min_length=10, max_length=400)
    preset: dict[str, Any] = {}
    """Params loaded into the page's playground (the rest stay at their defaults); `modelterms
    check` validates them against the demo's params."""
    answer: str = Field(min_length=10, max_length=800)


class TermMeta(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str = Field(min_length=1, max_length=120)
    level: Literal["beginner", "intermediate", "advanced"]
    order: int | None = Field(None, ge=1)
    """Place on its category's learning path (1 first); terms without one follow, by title."""
    summary: str = Field(min_length=10, max_length=300)
    aliases: list[str] = []
    related: list[str] = []
    demo: str | None = None
    tools: list[Literal["memory-calculator"]] = []
    """Interactive widgets shown below the body (templates/partials/tools/<name>.html)."""
    references: list[Reference] = []
    exercises: list[Exercise] = []


class CategoryMeta(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str = Field(min_length=1)
    summary: str = Field(min_length=10, max_length=300)
    order: int = 0


@dataclass(frozen=True)
class Problem:
    path: Path
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


@dataclass
class Term:
    slug: str
    category: str
    path: Path
    meta: TermMeta
    source: str
    """The Markdown body as written (indexed by search)."""
    body: Rendered
    words: int
    body_line: int
    """Line of the file on which the Markdown body starts (front matter comes before)."""
    backlinks: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"/terms/{self.slug}"

    @property
    def formulas(self) -> int:
        return self.body.html.count("<math ")


@dataclass
class Category:
    slug: str
    meta: CategoryMeta
    body: Rendered
    terms: list[Term] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"/categories/{self.slug}"


@dataclass
class Glossary:
    terms: dict[str, Term]
    categories: dict[str, Category]
    aliases: dict[str, str]
    """Slugified alias or title -> canonical slug (only names that differ from the slug)."""
    problems: list[Problem]

    def sorted_terms(self) -> list[Term]:
        return sorted(self.terms.values(), key=lambda t: t.meta.title.lower())

    def learning_path(self) -> list[Term]:
        """Every term in reading order: categories in order, each in its terms' order."""
        return [term for category in self.categories.values() for term in category.terms]

    def place(self, slug: str) -> int:
        """Position of a term on the learning path."""
        path = [t.slug for t in self.learning_path()]
        return path.index(slug) if slug in path else len(path)

    def neighbours(self, term: Term) -> tuple[Term | None, Term | None]:
        siblings = self.categories[term.category].terms
        i = siblings.index(term)
        return (siblings[i - 1] if i > 0 else None, siblings[i + 1] if i + 1 < len(siblings) else None)


def split_front_matter(text: str) -> tuple[str, str, int]:
    """Returns (yaml, body, line on which the body starts). Raises ValueError if absent."""
    match = re.match(r"^---\r?\n(.*?)^---\r?\n?", text, re.S | re.M)
    if not match:
        raise ValueError("missing YAML front matter (the file must start with a line '---')")
    return match.group(1), text[match.end() :], match.group(0).count("\n") + 1


def _yaml_line(front: str, key: str) -> int:
    """Line of `key:` in the front matter, counted from the file's first line."""
    for i, line in enumerate(front.splitlines(), start=2):
        if line.startswith(f"{key}:"):
            return i
    return 1


def _front_line(term: Term, key: str) -> int:
    """Line of `key:` in a loaded term's file (read again: only a problem's report needs it)."""
    return _yaml_line(split_front_matter(term.path.read_text(encoding="utf-8"))[0], key)


def _validation_problems(path: Path, front: str, error: ValidationError) -> Iterable[Problem]:
    for issue in error.errors():
        where = ".".join(str(p) for p in issue["loc"]) or "front matter"
        yield Problem(path, _yaml_line(front, str(issue["loc"][0]) if issue["loc"] else ""), f"{where}: {issue['msg']}")


class _Loader:
    def __init__(self, known_demos: Mapping[str, Demo] | Iterable[str]) -> None:
        self.renderer = MarkdownRenderer()
        self.known_demos = set(known_demos)
        self.demos: Mapping[str, Demo] = known_demos if isinstance(known_demos, Mapping) else {}
        self.problems: list[Problem] = []
        self.terms: dict[str, Term] = {}
        self.categories: dict[str, Category] = {}

    def load_dirs(self, dirs: Sequence[Path]) -> None:
        for root in dirs:
            if not root.is_dir():
                self.problems.append(Problem(root, 1, "content folder does not exist"))
                continue
            for folder in sorted(p for p in root.iterdir() if p.is_dir()):
                self._load_category(folder)

    def _read(self, path: Path) -> tuple[str, str, int] | None:
        try:
            return split_front_matter(path.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as error:
            self.problems.append(Problem(path, 1, str(error)))
            return None

    def _parse(self, path: Path, model: type[BaseModel], front: str):
        try:
            data = yaml.load(front, Loader=_YAML_LOADER)
        except yaml.YAMLError as error:
            mark = getattr(error, "problem_mark", None)
            self.problems.append(Problem(path, (mark.line + 2) if mark else 1, f"invalid YAML: {error}"))
            return None
        try:
            return model.model_validate(data if isinstance(data, dict) else {})
        except ValidationError as error:
            self.problems.extend(_validation_problems(path, front, error))
            return None

    def _render(self, path: Path, body: str, body_line: int) -> Rendered:
        rendered = self.renderer.render(body)
        for message, line in rendered.math_errors:
            self.problems.append(Problem(path, body_line + line - 1, message))
        return rendered

    def _load_category(self, folder: Path) -> None:
        slug = folder.name
        index = folder / "_category.md"
        category = self.categories.get(slug)
        if index.exists() and (parts := self._read(index)):
            front, body, body_line = parts
            meta = self._parse(index, CategoryMeta, front)
            if meta:
                category = Category(
                    slug, meta, self._render(index, body, body_line), category.terms if category else []
                )
        elif category is None:
            self.problems.append(Problem(index, 1, f"category '{slug}' has no _category.md"))
            return
        if category is None:
            return
        self.categories[slug] = category
        for path in sorted(folder.glob("*.md")):
            if path.name != "_category.md":
                self._load_term(path, category)

    def _load_term(self, path: Path, category: Category) -> None:
        slug = path.stem
        if not SLUG.match(slug):
            self.problems.append(Problem(path, 1, f"file name '{slug}' is not a slug (a-z, 0-9, single dashes)"))
            return
        parts = self._read(path)
        if not parts:
            return
        front, body, body_line = parts
        meta = self._parse(path, TermMeta, front)
        if meta is None:
            return
        if meta.demo is not None and meta.demo not in self.known_demos:
            self.problems.append(Problem(path, _yaml_line(front, "demo"), f"demo: unknown demo '{meta.demo}'"))
        self._check_exercises(path, front, meta)
        previous = self.terms.get(slug)
        if previous is not None:  # a later content folder replaces a term of an earlier one
            self.categories[previous.category].terms.remove(previous)
        rendered = self._render(path, body, body_line)
        term = Term(slug, category.slug, path, meta, body, rendered, len(re.findall(r"\w+", body)), body_line)
        self.terms[slug] = term
        category.terms.append(term)

    def _check_exercises(self, path: Path, front: str, meta: TermMeta) -> None:
        """Each preset must be params the term's demo accepts, as a POST would check them."""
        line = _yaml_line(front, "exercises")
        if meta.exercises and meta.demo is None:
            self.problems.append(Problem(path, line, "exercises: need a demo: the presets load into its playground"))
        demo = self.demos.get(meta.demo or "")
        for number, exercise in enumerate(meta.exercises):
            try:
                if demo is not None:
                    demo.parse(exercise.preset)
            except ValidationError as error:
                for issue in error.errors():
                    where = ".".join(str(p) for p in issue["loc"]) or "preset"
                    message = f"exercises.{number}.preset.{where}: {issue['msg']} (demo '{meta.demo}')"
                    self.problems.append(Problem(path, line, message))

    def resolve(self) -> Glossary:
        aliases = self._aliases()
        self._check_links(aliases)
        for category in self.categories.values():
            category.terms.sort(key=lambda t: (t.meta.order is None, t.meta.order or 0, t.meta.title.lower()))
            self._check_orders(category)
        return Glossary(
            self.terms,
            dict(sorted(self.categories.items(), key=lambda c: (c[1].meta.order, c[0]))),
            aliases,
            self.problems,
        )

    def _check_orders(self, category: Category) -> None:
        """Two terms at one place would leave their order to their titles, unlike what was written."""
        owner: dict[int, Term] = {}
        for term in category.terms:
            order = term.meta.order
            if order is not None and order in owner:
                message = f"order: {order} is also the place of '{owner[order].slug}' in '{category.slug}'"
                self.problems.append(Problem(term.path, _front_line(term, "order"), message))
            elif order is not None:
                owner[order] = term

    def _aliases(self) -> dict[str, str]:
        owner: dict[str, str] = {slug: slug for slug in self.terms}
        aliases: dict[str, str] = {}
        for term in self.terms.values():  # content folders in order: a later file is the one to fix
            names = [("title", "title", term.meta.title)] + [("alias", "aliases", a) for a in term.meta.aliases]
            for kind, field_name, name in names:
                key = slugify(name)
                if not key or key == term.slug:
                    continue
                if owner.get(key, term.slug) != term.slug:
                    other = self.terms[owner[key]]
                    message = (
                        f"{kind} '{name}' already names term '{other.slug}' ({other.path}): give this term another "
                        f"{kind}, or name this file {other.slug}.md to replace that term"
                    )
                    self.problems.append(Problem(term.path, _front_line(term, field_name), message))
                    continue
                owner[key] = term.slug
                aliases[key] = term.slug
        return aliases

    def _check_links(self, aliases: dict[str, str]) -> None:
        for term in self.terms.values():
            for slug in term.meta.related:
                if slug not in self.terms:
                    self.problems.append(Problem(term.path, 1, f"related: unknown term '{slug}'"))
            for slug, line in term.body.term_links:
                target = slug if slug in self.terms else aliases.get(slug)
                if target is None:
                    self.problems.append(
                        Problem(term.path, term.body_line + line - 1, f"link to unknown term '/terms/{slug}'")
                    )
                elif target != term.slug and term.slug not in self.terms[target].backlinks:
                    self.terms[target].backlinks.append(term.slug)


def load_glossary(dirs: Sequence[Path], known_demos: Mapping[str, Demo] | Iterable[str]) -> Glossary:
    """`known_demos`: the demos by name (then exercise presets are checked against their params),
    or just their names."""
    loader = _Loader(known_demos)
    loader.load_dirs(dirs)
    return loader.resolve()
