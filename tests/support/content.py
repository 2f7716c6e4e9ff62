"""Build small content folders for loader and search tests."""

from __future__ import annotations

from pathlib import Path

import yaml


def write_category(root: Path, slug: str = "training") -> Path:
    folder = root / slug
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "_category.md").write_text(
        f"---\ntitle: {slug.title()}\nsummary: A test category with enough words.\n---\nBody.\n"
    )
    return folder


def write_term(folder: Path, slug: str, body: str = "Some words.\n", **meta) -> Path:
    front = {
        "title": slug.replace("-", " ").title(),
        "level": "intermediate",
        "summary": f"A summary of {slug} for tests.",
    } | meta
    path = folder / f"{slug}.md"
    path.write_text("---\n" + yaml.safe_dump(front, sort_keys=False) + "---\n" + body)
    return path
