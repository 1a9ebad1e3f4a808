"""docs/security.md maps every item of the security checklist to tests, and every test it names exists.

The checklist is `docs/security-checklist.md` (a page of the documentation site, like the map). Test node ids
are checked against the test modules' syntax trees (no import, so a module that cannot be imported still gets
a clear message): `tests/test_x.py::test_y`, `tests/test_x.py::TestC::test_y` and parametrized
`tests/test_x.py::test_y[id]` (which must name the function `test_y`).
"""

from __future__ import annotations

import ast
import functools
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DOC = REPO / "docs" / "security.md"
CHECKLIST = REPO / "docs" / "security-checklist.md"

ADDED_IDS = ("TOK-11", "REPO-01", "SOPS-01", "SEC-09", "SEC-10", "SEC-11", "TOK-12", "TERM-01", "JWV-05")
"""Items added by issues beyond the checklist (issue 12: token owner, recipients vs `.sops.yaml`, sops
operands, loopback listener, API origins, terminal output, ID tokens as access tokens); mapped and checked
like the checklist's own."""

_ITEM = re.compile(r"^- ([A-Z]+-\d+) ", re.MULTILINE)  # checklist lines: "- SEC-01 PKCE always, …"
_HEADING = re.compile(r"^(#{1,6}) +(.*)$", re.MULTILINE)
_SECTION_ID = re.compile(r"^([A-Z]+-\d+)\b")
_NODE = re.compile(r"`(tests/[\w/.-]+\.py)::([\w:]+)(\[[^\]`]*\])?`")


def checklist_ids() -> list[str]:
    """The item IDs of docs/security-checklist.md, in order."""
    return list(dict.fromkeys(_ITEM.findall(CHECKLIST.read_text(encoding="utf-8"))))


@functools.cache
def doc_sections() -> dict[str, str]:
    """Item ID → the text of its section in docs/security.md (a heading starting with the ID)."""
    text = DOC.read_text(encoding="utf-8")
    headings = list(_HEADING.finditer(text))
    sections: dict[str, str] = {}
    for i, heading in enumerate(headings):
        match = _SECTION_ID.match(heading.group(2))
        if match is None:
            continue
        end = headings[i + 1].start() if i + 1 < len(headings) else len(text)
        if match.group(1) in sections:
            raise AssertionError(f"docs/security.md has two sections for {match.group(1)}")
        sections[match.group(1)] = text[heading.end() : end]
    return sections


def node_ids(section: str) -> list[tuple[str, str]]:
    """The (file, test path) pairs named in a section; a `[param]` suffix is dropped."""
    return [(file, name) for file, name, _ in _NODE.findall(section)]


@functools.cache
def defined_tests(file: str) -> frozenset[str] | str:
    """`test_*` functions and `Test*::test_*` methods of a test module, or why they cannot be read."""
    path = REPO / file
    if not path.is_file():
        return f"{file} does not exist"
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=file)
    except SyntaxError as exc:
        return f"{file} does not parse: {exc.msg} (line {exc.lineno})"
    names: set[str] = set()
    functions = (ast.FunctionDef, ast.AsyncFunctionDef)
    for node in tree.body:
        if isinstance(node, functions) and node.name.startswith("test"):
            names.add(node.name)
        elif isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
            names.update(
                f"{node.name}::{item.name}"
                for item in node.body
                if isinstance(item, functions) and item.name.startswith("test")
            )
    return frozenset(names)


@pytest.mark.parametrize("item", [*checklist_ids(), *ADDED_IDS])
def test_every_checklist_item_has_a_section_with_tests(item: str) -> None:
    section = doc_sections().get(item)
    assert section is not None, f"docs/security.md has no section `### {item} — …`"
    assert "**How.**" in section, f"{item}: say how planet-profiles meets it (a **How.** paragraph)"
    assert node_ids(section), f"{item}: list at least one test as `tests/test_x.py::test_name`"


def test_every_listed_test_exists() -> None:
    missing = []
    for item, section in doc_sections().items():
        for file, name in node_ids(section):
            defined = defined_tests(file)
            if isinstance(defined, str):
                missing.append(f"{item}: {defined}")
            elif name not in defined:
                missing.append(f"{item}: {file}::{name} is not a test function")
    assert missing == [], "docs/security.md names tests that do not exist:\n" + "\n".join(missing)


def test_the_map_names_only_checklist_items() -> None:
    unknown = sorted(set(doc_sections()) - set(checklist_ids()) - set(ADDED_IDS))
    assert unknown == [], f"docs/security.md has sections for IDs the checklist does not have: {unknown}"


def test_the_checklist_is_read() -> None:
    """Guard for the parser: the checklist's items are found, each once, in its sections' order."""
    ids = checklist_ids()
    assert len(ids) >= 30, ids
    assert ids[0] == "SEC-01" and ids[-1] == "BAD-01", ids
    assert len(_ITEM.findall(CHECKLIST.read_text(encoding="utf-8"))) == len(ids), "an ID is listed twice"


def test_node_ids_are_recognised() -> None:
    """Guard for the parser itself: the forms the map may use."""
    text = (
        "`tests/test_a.py::test_one` `tests/test_a.py::test_two[x-y]` "
        "`tests/sub/test_b.py::TestC::test_three` `tests/test_a.py` `planet_profiles/_x.py::f`"
    )
    assert node_ids(text) == [
        ("tests/test_a.py", "test_one"),
        ("tests/test_a.py", "test_two"),
        ("tests/sub/test_b.py", "TestC::test_three"),
    ]
