"""The differential tests against planet-auth 2.3.2 (`test_wire_parity`, `test_choice_parity`): shared parts.

Both libraries run the same worker script (`bench/workers/`) through the seed API, each in its own venv, in
the scrubbed environment and temp HOME of `bench/_harness.Workspace` (the machinery `make bench` uses;
`make test` creates planet-auth's venv first, `bench/.venv-planet-auth/`).

`docs/differences.md` lists every intentional difference; its table's last column holds the patterns
(`fnmatch`, in backticks) of the differences a test observes. `check_against_docs(kind, observed)` fails
for an observed difference no entry's pattern matches, and for an entry of that kind whose patterns match
nothing observed (a difference that went away must leave the list).
"""

from __future__ import annotations

import fnmatch
import re
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DIFFERENCES = REPO / "docs" / "differences.md"
sys.path.insert(0, str(REPO / "bench"))

from _harness import Lib, Workspace, ours, planet_auth, workspace  # noqa: E402

__all__ = ["DIFFERENCES", "Lib", "Workspace", "check_against_docs", "documented", "parity_workspace"]


def parity_workspace() -> Iterator[Workspace]:
    """A bench workspace with both libraries: ours from the wheel (`.venv-wheel`, made by `make test`), and
    planet-auth's (its venv is created if missing)."""
    with workspace({"ours": ours(venv=REPO / ".venv-wheel"), "pa": planet_auth()}) as ws:
        yield ws


def documented(kind: str) -> dict[str, list[str]]:
    """`{entry id: [patterns]}` of the rows of docs/differences.md whose patterns start with `kind:`."""
    entries: dict[str, list[str]] = {}
    for line in DIFFERENCES.read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) < 3 or not re.fullmatch(r"[A-Z]+-\d+", cells[0]):
            continue
        patterns = re.findall(r"`([^`]+)`", cells[-1])
        if patterns and all(p.startswith(f"{kind}:") for p in patterns):
            entries[cells[0]] = patterns
    return entries


def check_against_docs(kind: str, observed: Iterable[str]) -> None:
    """Every observed difference is documented, and every documented one of `kind` is still observed."""
    seen = sorted(set(observed))
    entries = documented(kind)
    assert entries, f"no `{kind}:` entries in {DIFFERENCES}"
    patterns = [p for ps in entries.values() for p in ps]
    undocumented = [d for d in seen if not any(fnmatch.fnmatchcase(d, p) for p in patterns)]
    stale = [
        entry for entry, ps in entries.items() if not any(fnmatch.fnmatchcase(d, p) for d in seen for p in ps)
    ]
    if undocumented or stale:
        pytest.fail(
            "differences from planet-auth 2.3.2 and docs/differences.md disagree:\n"
            + "".join(f"  not documented: {d}\n" for d in undocumented)
            + "".join(f"  documented, no longer observed: {e} {entries[e]}\n" for e in stale)
            + "observed:\n"
            + "".join(f"  {d}\n" for d in seen),
            pytrace=False,
        )
