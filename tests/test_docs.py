"""The design notes and the modules that link to them stay in step, so no link can rot: every
note a Python file names exists, every note is linked from a module's docstring and from the
index (docs/design/README.md), and every link between the notes leads to one."""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DESIGN = ROOT / "docs" / "design"
NAMED = re.compile(r"docs/design/([\w.-]+\.md)")
LINKED = re.compile(r"\]\(([^)#\s]+\.md)(?:#[^)]*)?\)")


def python_files() -> list[Path]:
    return [
        path
        for path in ROOT.rglob("*.py")
        if not any(part.startswith(".") or part == "node_modules" for part in path.parts)
    ]


def notes() -> set[str]:
    return {path.name for path in DESIGN.glob("*.md")} - {"README.md"}


def linked_from(path: Path) -> set[str]:
    return set(LINKED.findall(path.read_text()))


def test_there_are_design_notes():
    assert notes()


def test_every_note_a_python_file_names_exists():
    missing = sorted(
        f"{path.relative_to(ROOT)} names docs/design/{name}"
        for path in python_files()
        for name in NAMED.findall(path.read_text())
        if not (DESIGN / name).is_file()
    )
    assert missing == []


def test_every_note_is_linked_from_a_module_docstring():
    linked: set[str] = set()
    for path in python_files():
        if "tests" in path.relative_to(ROOT).parts:
            continue
        docstring = ast.get_docstring(ast.parse(path.read_text())) or ""
        linked |= set(NAMED.findall(docstring))
    assert sorted(notes() - linked) == []


def test_every_note_is_in_the_index():
    assert sorted(notes() - linked_from(DESIGN / "README.md")) == []


def test_every_link_between_the_notes_leads_to_one():
    broken = sorted(
        f"{path.name} links {target}"
        for path in DESIGN.glob("*.md")
        for target in linked_from(path)
        if not (DESIGN / target).is_file()
    )
    assert broken == []
