"""The pre-commit hooks of `.pre-commit-hooks.yaml`: schema check and encryption check of profile files.

- `planet-profiles-validate` (`main_validate`): every `auth_client.json` / `auth_client.sops.json` given is
  schema-valid (`planet_profiles._validate.validate_file`), the encrypted ones without any key.
Both read files as every other part of the package does (`planet_profiles._documents.read_profile`).
- `planet-profiles-encrypted` (`main_encrypted`): secrets only in `auth_client.sops.json`, and there really
  encrypted (`ENC[…]`, a `sops` block with a MAC and recipients). It also *warns* (exit status unchanged)
  when a file's recipients differ from the `.sops.yaml` creation rule that matches it: a rekey is due.

Both take any number of files in one call, print each problem as `file: pointer: message` and exit 1 when
there is one. They never decrypt, need no key, and import neither pydantic nor the HTTP or crypto libraries;
the encryption check does not import jsonschema either. Also runnable as
`python -m planet_profiles._hooks {validate,encrypted} FILE...`.

`.sops.yaml` is looked up as sops does it for a file: from the file's directory upwards; the file's path
relative to that directory is matched against each rule's `path_regex` (Go `MatchString`, i.e. a search),
first match wins, a rule without `path_regex` matches everything.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, NamedTuple

from ._documents import read_profile
from ._errors import Problem
from ._names import is_encrypted_name
from ._problems import sort_problems
from ._validate import encryption_problems, validate_file

__all__ = [
    "Notice",
    "file_recipients",
    "main",
    "main_encrypted",
    "main_validate",
    "rekey_warnings",
    "rule_recipients",
]

SOPS_CONFIG = ".sops.yaml"

Group = frozenset[str]
"""One key group: each key as `kind:id`, e.g. `age:age1…`, `pgp:ABCD…` (public identifiers, no secrets)."""


class Notice(NamedTuple):
    """A finding that does not fail the hook (e.g. a rekey is due): `file: pointer: warning: message`."""

    file: str
    pointer: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.pointer or '/'}: warning: {self.message}"


# ---------------------------------------------------------------- entry points


def main_validate(argv: Sequence[str] | None = None) -> int:
    """`planet-profiles-validate FILE...`: schema problems of every file; exit 1 if there is any."""
    files = _parse_args("planet-profiles-validate", "Schema check of profile files; no keys needed.", argv)
    return _report([p for file in files for p in validate_file(file)])


def main_encrypted(argv: Sequence[str] | None = None) -> int:
    """`planet-profiles-encrypted FILE...`: secrets only in `*.sops.json`, encrypted; warns on a due rekey."""
    files = _parse_args(
        "planet-profiles-encrypted", "Secrets only in *.sops.json, and there encrypted; no keys needed.", argv
    )
    problems: list[Problem] = []
    warnings: list[Notice] = []
    rules = _SopsConfigs()
    for file in files:
        encrypted = is_encrypted_name(file)
        doc, found = read_profile(file)[1:3]
        if doc is not None:
            found = sort_problems(found + encryption_problems(doc, file=file, encrypted=encrypted))
        problems += found
        if encrypted and not found:
            warnings += rekey_warnings(file, doc, rules)
    return _report(problems, warnings)


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m planet_profiles._hooks {validate,encrypted} FILE...`."""
    args = list(sys.argv[1:] if argv is None else argv)
    hooks = {"validate": main_validate, "encrypted": main_encrypted}
    if not args or args[0] not in hooks:
        print("usage: python -m planet_profiles._hooks {validate,encrypted} FILE...", file=sys.stderr)
        return 2
    return hooks[args[0]](args[1:])


def _parse_args(prog: str, description: str, argv: Sequence[str] | None) -> list[str]:
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("files", nargs="*", metavar="FILE", help="auth_client.json / auth_client.sops.json")
    return list(parser.parse_args(argv).files)


def _report(problems: Sequence[Problem], warnings: Sequence[Notice] = ()) -> int:
    """One line per finding and no summary: pre-commit runs a hook on chunks of the files in parallel."""
    lines = [str(w) for w in warnings] + [str(p) for p in problems]
    if lines:
        sys.stdout.write("\n".join(lines) + "\n")
    return 1 if problems else 0


# ---------------------------------------------------------------- rekey due? (.sops.yaml creation rules)


class _Rule(NamedTuple):
    path_regex: re.Pattern[str] | None
    groups: tuple[Group, ...]


class _Config(NamedTuple):
    path: str
    rules: tuple[_Rule, ...]
    error: str | None


def rekey_warnings(file: str, doc: Mapping[str, Any], configs: _SopsConfigs | None = None) -> list[Notice]:
    """A warning when the recipients of an encrypted `doc` differ from its `.sops.yaml` creation rule.

    No `.sops.yaml` above the file: nothing to compare, no warning.
    """
    config = (configs or _SopsConfigs()).find(file)
    if config is None:
        return []
    where = _shown(config.path)
    if config.error:
        return [Notice(file, "/sops", f"cannot read {where}: {config.error}")]
    relative = _relative(os.path.abspath(file), os.path.dirname(config.path))
    rule = next((r for r in config.rules if r.path_regex is None or r.path_regex.search(relative)), None)
    if rule is None:
        return [
            Notice(
                file,
                "/sops",
                f"no creation rule in {where} matches `{relative}`: `planet-profiles rekey` and "
                "`planet-profiles encrypt` will fail; add a rule for it",
            )
        ]
    have = file_recipients(doc.get("sops"))
    if sorted(map(sorted, have)) == sorted(map(sorted, rule.groups)):
        return []
    added = sorted(set().union(*rule.groups) - set().union(*have))
    removed = sorted(set().union(*have) - set().union(*rule.groups))
    change = [f"to add: {', '.join(added)}"] if added else []
    change += [f"to remove: {', '.join(removed)}"] if removed else []
    how = "; ".join(change) or "key groups differ"
    return [
        Notice(
            file,
            "/sops",
            f"recipients differ from the creation rule in {where} ({how}): "
            f"a rekey is due; run `planet-profiles rekey {file}`",
        )
    ]


def _shown(path: str) -> str:
    """`path` relative to the working directory when it is below it (pre-commit runs at the repo root)."""
    relative = os.path.relpath(path)
    return path if relative.startswith("..") else relative


def _relative(path: str, directory: str) -> str:
    """The path with the config directory's prefix removed, as sops' `parseCreationRuleForFile` does."""
    prefix = directory.rstrip(os.sep) + os.sep
    relative = path[len(prefix) :] if path.startswith(prefix) else path
    return relative.replace(os.sep, "/")


class _SopsConfigs:
    """`.sops.yaml` files found from a file's directory upwards; each looked up and parsed once a process."""

    def __init__(self) -> None:
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
            if parent == directory:
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
_ENTRY_ID: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "age": lambda e: f"{e.get('recipient', '')}",
    "pgp": lambda e: f"{e.get('fp', '')}",
    "kms": lambda e: f"{e.get('arn', '')}",
    "gcp_kms": lambda e: f"{e.get('resource_id', '')}",
    "azure_kv": lambda e: f"{e.get('vaultUrl')}/keys/{e.get('name', e.get('key'))}/{e.get('version')}",
    "hc_vault": lambda e: f"{e.get('vault_address')}/v1/{e.get('engine_path')}/keys/{e.get('key_name')}",
}


def _entry_key(kind: str, entry: Any) -> str | None:
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


def rule_recipients(rule: Mapping[str, Any]) -> tuple[Group, ...]:
    """The key groups of one `.sops.yaml` creation rule (flat keys are one group)."""

    def entries(kind: str, value: Any) -> Iterator[str]:
        items = value.split(",") if isinstance(value, str) else value if isinstance(value, list) else []
        for item in items:
            key = _entry_key(kind, item)
            if key:
                yield key

    if isinstance(rule.get("key_groups"), list):
        return tuple(
            frozenset(
                key
                for rule_kind, kind in _RULE_KINDS.items()
                for key in entries(kind, group.get(rule_kind) or group.get(kind))
            )
            for group in rule["key_groups"]
            if isinstance(group, Mapping)
        )
    return (
        frozenset(
            key for rule_kind, kind in _RULE_KINDS.items() for key in entries(kind, rule.get(rule_kind))
        ),
    )


def file_recipients(sops: Any) -> tuple[Group, ...]:
    """The key groups of a file's `sops` block (flat groups, or `key_groups`)."""
    if not isinstance(sops, Mapping):
        return ()
    groups: list[Any] = sops["key_groups"] if isinstance(sops.get("key_groups"), list) else [sops]
    return tuple(frozenset(_file_keys(g)) for g in groups if isinstance(g, Mapping))


def _file_keys(group: Mapping[str, Any]) -> Iterator[str]:
    for kind in _FILE_KINDS:
        for entry in group.get(kind) or ():
            key = _entry_key(kind, entry) if isinstance(entry, Mapping) else None
            if key:
                yield key


if __name__ == "__main__":
    sys.exit(main())
