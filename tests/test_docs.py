"""The documentation site (mkdocs.yml, docs/): what its `--strict` build cannot see by itself.

`make docs` builds the site with `mkdocs build --strict` (broken links, anchors, snippets and API references
fail it), and `make test` runs that build before pytest. Here: that it stays so, that the API reference
documents exactly the public API, that the generated client-type table covers every client type, and that
the README's links (read on GitHub, not built) resolve.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
from pathlib import Path

import planet_profiles

REPO = Path(__file__).resolve().parent.parent
DOCS = REPO / "docs"
_LINK = re.compile(r"\]\(([^)\s#]+)(?:#[^)]*)?\)")  # [text](target) of a Markdown file
_ENTRY = re.compile(r"^::: planet_profiles\.(\w+)$", re.MULTILINE)


def test_make_test_builds_the_docs_strictly() -> None:
    dry_run = subprocess.run(
        ["make", "-n", "test"], cwd=REPO, capture_output=True, text=True, timeout=60, check=True
    ).stdout
    build = dry_run.index("mkdocs build --strict")
    assert build < dry_run.index("-m pytest"), "the docs are built before the tests run"
    assert "--quiet" not in dry_run[build:].splitlines()[0], "--quiet hides the warnings --strict counts"


def test_the_api_reference_documents_exactly_the_public_api() -> None:
    entries = _ENTRY.findall((DOCS / "reference" / "api.md").read_text(encoding="utf-8"))
    entries += _ENTRY.findall((DOCS / "reference" / "errors.md").read_text(encoding="utf-8"))
    entries = [name for name in entries if name != "_errors"]  # the error tree: the module's docstring
    assert len(entries) == len(set(entries)), sorted(name for name in entries if entries.count(name) > 1)
    assert sorted(entries) == sorted(planet_profiles.__all__)


def test_the_client_type_table_has_every_client_type() -> None:
    spec = importlib.util.spec_from_file_location("docs_hooks", DOCS / "_hooks.py")
    assert spec is not None and spec.loader is not None
    hooks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hooks)
    assert hooks.MARKER in (DOCS / "concepts" / "client-types.md").read_text(encoding="utf-8")
    table = hooks.on_page_markdown(f"before\n{hooks.MARKER}\nafter")
    rows = [line for line in table.splitlines() if line.startswith("| `")][1:]  # (after the header)
    assert [row.split("`")[1] for row in rows] == list(planet_profiles.CLIENT_TYPES)
    assert "| `oidc_client_credentials_secret` |" in table and "`client_secret`" in table


def test_the_readme_links_resolve() -> None:
    """The README is read on GitHub, outside the site: its relative links name files of the repository."""
    links = _LINK.findall((REPO / "README.md").read_text(encoding="utf-8"))
    relative = [target for target in links if "://" not in target]
    assert {"devserver/README.md", "examples/", "docs/security-checklist.md"} <= set(relative)
    assert [target for target in relative if not (REPO / target).exists()] == []
