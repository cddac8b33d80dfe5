"""What a mutant is, and every app's list of them gathered in one place."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Mutant:
    name: str
    promise: str
    path: str
    # (exact snippet, replacement) pairs, all in `path`; each snippet must occur exactly once.
    edits: tuple[tuple[str, str], ...]
    # pytest arguments: test files, node ids, `-k` expressions.
    tests: tuple[str, ...]


def mutant(name: str, promise: str, path: str, old: str, new: str, *tests: str) -> Mutant:
    return Mutant(name=name, promise=promise, path=path, edits=((old, new),), tests=tests)


def _gathered() -> list[Mutant]:
    # Imported here: each app's module imports Mutant from this one.
    from mutants import (
        accounts,
        api,
        bench,
        core,
        feed,
        ingest,
        ops,
        people,
        segments,
        segments_pages,
        templates,
        windsor,
    )

    apps = (
        core,
        accounts,
        people,
        feed,
        segments,
        segments_pages,
        ingest,
        api,
        ops,
        windsor,
        templates,
        bench,
    )
    return [m for app in apps for m in app.MUTANTS]


ALL: list[Mutant] = _gathered()
