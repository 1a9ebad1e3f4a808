"""`.sops.yaml` creation rules: who may decrypt a profile file, and whether its `sops` block agrees.

`.sops.yaml` is looked up as sops does it for a file: from the file's directory upwards; the file's path
relative to that directory is matched against each rule's `path_regex` (Go `MatchString`, i.e. a search),
first match wins, a rule without `path_regex` matches everything. Both sides are compared as key groups of
`kind:id` strings (public identifiers, no secrets). No key is needed: nothing is decrypted.

Used by the `planet-profiles-encrypted` hook and `planet-profiles validate` (a difference fails them) and by
the loader (a difference is logged as a warning). Imports neither pydantic, jsonschema nor the HTTP or crypto
libraries; ruamel.yaml only when a `.sops.yaml` is found.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator, Mapping
from typing import NamedTuple

from ._errors import Problem

__all__ = [
    "SopsConfigs",
    "checkout_top",
    "file_recipients",
    "recipient_problems",
    "rule_recipients",
]

SOPS_CONFIG = ".sops.yaml"

Group = frozenset[str]
"""One key group: each key as `kind:id`, e.g. `age:age1…`, `pgp:ABCD…` (public identifiers, no secrets)."""


def checkout_top(root: str | os.PathLike[str]) -> str:
    """The top of the git checkout holding the directory `root` (a directory with `.git`), else `root`."""
    start = directory = os.path.abspath(root)
    while True:
        if os.path.exists(os.path.join(directory, ".git")):
            return directory
        parent = os.path.dirname(directory)
        if parent == directory:
            return start
        directory = parent


class _Rule(NamedTuple):
    path_regex: re.Pattern[str] | None
    groups: tuple[Group, ...]


class _Config(NamedTuple):
    path: str
    rules: tuple[_Rule, ...]
    error: str | None


def recipient_problems(
    file: str, doc: Mapping[str, object], configs: SopsConfigs | None = None
) -> list[Problem]:
    """Problems when the recipients of an encrypted `doc` differ from its `.sops.yaml` creation rule: each
    recipient the file has and the rule does not name, each one the rule names and the file lacks.

    The `sops` block is not covered by the sops MAC: anyone who can push could append a recipient to it.
    `.sops.yaml` (reviewed, protected by CODEOWNERS) is the one list of who may decrypt. No `.sops.yaml` above
    the file (within the bound of `configs`): nothing to compare, no problem.
    """
    config = (configs or SopsConfigs()).find(file)
    if config is None:
        return []
    where = _shown(config.path)
    fix = f"run `planet-profiles rekey {file}` (with a key that can decrypt it) and commit the result"
    if config.error:
        return [Problem(file, "/sops", f"cannot read {where}, which decides who may decrypt: {config.error}")]
    relative = _relative(os.path.abspath(file), os.path.dirname(config.path))
    rule = next((r for r in config.rules if r.path_regex is None or r.path_regex.search(relative)), None)
    if rule is None:
        return [
            Problem(
                file,
                "/sops",
                f"no creation rule in {where} matches `{relative}`, so nothing says who may decrypt it; "
                "add a rule for it, then " + fix,
            )
        ]
    have = file_recipients(doc.get("sops"))
    if sorted(map(sorted, have)) == sorted(map(sorted, rule.groups)):
        return []
    named: set[str] = set().union(*rule.groups)
    held: set[str] = set().union(*have)
    problems = [
        Problem(file, "/sops", f"recipient {key} is not named by the creation rule in {where}: {fix}")
        for key in sorted(held - named)
    ]
    problems += [
        Problem(file, "/sops", f"recipient {key} named by the creation rule in {where} is missing: {fix}")
        for key in sorted(named - held)
    ]
    return problems or [Problem(file, "/sops", f"key groups differ from the creation rule in {where}: {fix}")]


def _shown(path: str) -> str:
    """`path` relative to the working directory when it is below it (pre-commit runs at the repo root)."""
    relative = os.path.relpath(path)
    return path if relative.startswith("..") else relative


def _relative(path: str, directory: str) -> str:
    """The path with the config directory's prefix removed, as sops' `parseCreationRuleForFile` does."""
    prefix = directory.rstrip(os.sep) + os.sep
    relative = path[len(prefix) :] if path.startswith(prefix) else path
    return relative.replace(os.sep, "/")


class SopsConfigs:
    """`.sops.yaml` files found from a file's directory upwards; each looked up and parsed once a process.

    `stop`: the highest directory searched (the loader passes the checkout a profile was found in); None
    searches up to the file system root, as sops does.
    """

    def __init__(self, stop: str | os.PathLike[str] | None = None) -> None:
        self._stop = None if stop is None else os.path.abspath(stop)
        self._by_dir: dict[str, str | None] = {}
        self._parsed: dict[str, _Config] = {}

    def find(self, file: str) -> _Config | None:
        path = self._lookup(os.path.dirname(os.path.abspath(file)))
        if path is None:
            return None
        if path not in self._parsed:
            self._parsed[path] = _parse_config(path)
        return self._parsed[path]

    def _lookup(self, directory: str) -> str | None:
        walked = []
        found: str | None = None
        while True:
            if directory in self._by_dir:
                found = self._by_dir[directory]
                break
            walked.append(directory)
            candidate = os.path.join(directory, SOPS_CONFIG)
            if os.path.isfile(candidate):
                found = candidate
                break
            parent = os.path.dirname(directory)
            if parent == directory or directory == self._stop:
                break
            directory = parent
        for seen in walked:
            self._by_dir[seen] = found
        return found


def _parse_config(path: str) -> _Config:
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    try:
        with open(path, encoding="utf-8") as stream:
            data = YAML(typ="safe", pure=True).load(stream)
    except (OSError, UnicodeDecodeError, YAMLError) as exc:
        return _Config(path, (), f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
    rules = data.get("creation_rules") if isinstance(data, Mapping) else None
    if not isinstance(rules, list):
        return _Config(path, (), "no `creation_rules` list")
    parsed = []
    for i, rule in enumerate(rules):
        if not isinstance(rule, Mapping):
            return _Config(path, (), f"`creation_rules[{i}]` is not a mapping")
        regex = rule.get("path_regex")
        try:
            compiled = re.compile(str(regex)) if regex else None
        except re.error as exc:
            return _Config(path, (), f"`creation_rules[{i}].path_regex` does not compile: {exc}")
        parsed.append(_Rule(compiled, rule_recipients(rule)))
    return _Config(path, tuple(parsed), None)


# ---------------------------------------------------------------- recipients, both sides as `kind:id`

# `.sops.yaml` rule key -> the group name sops writes into the file's `sops` block
_RULE_KINDS = {
    "age": "age",
    "pgp": "pgp",
    "kms": "kms",
    "gcp_kms": "gcp_kms",
    "azure_keyvault": "azure_kv",
    "hc_vault_transit_uri": "hc_vault",
}
_FILE_KINDS = tuple(_RULE_KINDS.values())


# how one key entry (the file's `sops` block; a mapping in a rule's `key_groups`) names its key
_ENTRY_ID: dict[str, Callable[[Mapping[str, object]], str]] = {
    "age": lambda e: f"{e.get('recipient', '')}",
    "pgp": lambda e: f"{e.get('fp', '')}",
    "kms": lambda e: f"{e.get('arn', '')}",
    "gcp_kms": lambda e: f"{e.get('resource_id', '')}",
    "azure_kv": lambda e: f"{e.get('vaultUrl')}/keys/{e.get('name', e.get('key'))}/{e.get('version')}",
    "hc_vault": lambda e: f"{e.get('vault_address')}/v1/{e.get('engine_path')}/keys/{e.get('key_name')}",
}


def _entry_key(kind: str, entry: object) -> str | None:
    """One key as `kind:id`, from a `.sops.yaml` string or an entry mapping; None if it names none."""
    if isinstance(entry, str):
        ident = entry.strip()
    elif isinstance(entry, Mapping):
        ident = _ENTRY_ID[kind](entry).strip()
    else:
        return None
    if kind == "pgp":
        ident = ident.replace(" ", "").upper()
    elif kind == "kms":
        ident = ident.split("+", 1)[0]  # `arn+role`
    ident = ident.rstrip("/")
    return f"{kind}:{ident}" if ident else None


def rule_recipients(rule: Mapping[str, object]) -> tuple[Group, ...]:
    """The key groups of one `.sops.yaml` creation rule (flat keys are one group)."""

    def entries(kind: str, value: object) -> Iterator[str]:
        items: list[object] = (
            list(value.split(",")) if isinstance(value, str) else value if isinstance(value, list) else []
        )
        for item in items:
            key = _entry_key(kind, item)
            if key:
                yield key

    groups = rule.get("key_groups")
    if isinstance(groups, list):
        return tuple(
            frozenset(
                key
                for rule_kind, kind in _RULE_KINDS.items()
                for key in entries(kind, group.get(rule_kind) or group.get(kind))
            )
            for group in groups
            if isinstance(group, Mapping)
        )
    return (
        frozenset(
            key for rule_kind, kind in _RULE_KINDS.items() for key in entries(kind, rule.get(rule_kind))
        ),
    )


def file_recipients(sops: object) -> tuple[Group, ...]:
    """The key groups of a file's `sops` block (flat groups, or `key_groups`)."""
    if not isinstance(sops, Mapping):
        return ()
    groups: list[object] = sops["key_groups"] if isinstance(sops.get("key_groups"), list) else [sops]
    return tuple(frozenset(_file_keys(g)) for g in groups if isinstance(g, Mapping))


def _file_keys(group: Mapping[str, object]) -> Iterator[str]:
    for kind in _FILE_KINDS:
        entries = group.get(kind)
        for entry in entries if isinstance(entries, list) else ():
            key = _entry_key(kind, entry) if isinstance(entry, Mapping) else None
            if key:
                yield key
