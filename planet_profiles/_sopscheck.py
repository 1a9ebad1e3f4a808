"""Stage "validate", encrypted files: the shape of a sops-encrypted profile, checked without any key.

A `*.sops.json` profile must carry a well-formed `sops` block (MAC, version, recipients with their data keys),
every secret key must be an `ENC[AES256_GCM,…,type:str]` value, and nothing else may be encrypted (the
project's `encrypted_regex`, so reviewers read every other key). A plaintext profile holds no secret key and
no `sops` block. `planet_profiles._validate` runs these checks beside the schema check; the
`planet-profiles-encrypted` hook runs them alone."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path

from ._errors import Problem
from ._names import ENCRYPTED_REGEX, SECRET_KEYS
from ._problems import RuleProblem, label, pointer

__all__ = ["ENC_PATTERN", "plaintext_secret_problems", "sops_in_plaintext", "sops_problems"]

ENC_PATTERN = re.compile(
    r"^ENC\[AES256_GCM,data:(?P<data>[A-Za-z0-9+/=]*),iv:(?P<iv>[A-Za-z0-9+/=]+),"
    r"tag:(?P<tag>[A-Za-z0-9+/=]+),type:(?P<type>[a-z]+)\]\Z"
)
"""A value encrypted by sops; group `type` is the clear value's type (`str`, `float`, `bool`, …)."""


def plaintext_secret_problems(doc: Mapping[str, object], file: str) -> list[Problem]:
    """A plaintext profile file holds no secret key (DESIGN: "Profiles on disk")."""
    return [
        Problem(
            file,
            pointer([key]),
            f"plaintext secret `{key}` in {Path(file).name}: move it to auth_client.sops.json and encrypt it "
            "with `planet-profiles encrypt`",
        )
        for key in SECRET_KEYS
        if doc.get(key) is not None
    ]


def sops_in_plaintext(doc: Mapping[str, object], file: str) -> list[Problem]:
    """A plaintext profile file holds no `sops` block."""
    if "sops" not in doc:
        return []
    return [Problem(file, "/sops", "this file has a `sops` block: name encrypted files `*.sops.json`")]


def _is_enc(value: object) -> bool:
    return isinstance(value, str) and value.startswith("ENC[")


def _enc_paths(value: object, parts: list[str | int]) -> Iterator[list[str | int]]:
    if _is_enc(value):
        yield parts
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _enc_paths(item, [*parts, i])
    elif isinstance(value, Mapping):
        for k, item in value.items():
            yield from _enc_paths(item, [*parts, k])


_SOPS_GROUPS = ("age", "pgp", "kms", "gcp_kms", "azure_kv", "hc_vault", "key_groups")
_NOT_SOPS = "not encrypted with sops"
_HOW = "encrypt it with `planet-profiles encrypt` (sops with the project's .sops.yaml)"


def sops_problems(doc: Mapping[str, object], file: str, skip: set[str]) -> list[Problem]:
    """Shape of the `sops` block, secrets encrypted, all else clear text; adds to `skip` the keys reported."""
    problems = [
        Problem(file, ptr, f"{_NOT_SOPS}: {msg}") for ptr, msg in _sops_block_problems(doc.get("sops"))
    ]
    for key in SECRET_KEYS:
        value = doc.get(key)
        if value is None:
            continue
        match = ENC_PATTERN.match(value) if isinstance(value, str) else None
        if match is None:
            state = "is empty" if value == "" else f"is not encrypted: {_HOW}"
            problems.append(Problem(file, pointer([key]), f"`{key}` {state}"))
            skip.add(key)
        elif match["type"] != "str":
            problems.append(
                Problem(
                    file,
                    pointer([key]),
                    f"`{key}` must be a string, but it was encrypted from a {match['type']} value",
                )
            )
            skip.add(key)
    for key, value in doc.items():
        if key == "sops" or key in SECRET_KEYS:
            continue
        for parts in _enc_paths(value, [key]):
            skip.add(key)
            problems.append(
                Problem(
                    file,
                    pointer(parts),
                    f"`{label(parts)}` is encrypted, but only the secret keys may be: re-encrypt with the "
                    f"project's encrypted_regex `{ENCRYPTED_REGEX}` (see .sops.yaml) so reviewers can read "
                    "every other key",
                )
            )
    return problems


def _sops_block_problems(sops: object) -> Iterator[RuleProblem]:
    if not isinstance(sops, Mapping):
        yield "/sops", f"the `sops` block is {'missing' if sops is None else 'not an object'}; {_HOW}"
        return
    if not (isinstance(sops.get("mac"), str) and ENC_PATTERN.match(sops["mac"])):
        yield "/sops/mac", "`sops.mac` must be an `ENC[AES256_GCM,...]` string"
    for key in ("lastmodified", "version"):
        if not (isinstance(sops.get(key), str) and sops[key]):
            yield f"/sops/{key}", f"`sops.{key}` must be a non-empty string"
    groups = [g for g in _SOPS_GROUPS if isinstance(sops.get(g), list) and sops[g]]
    if not groups:
        yield "/sops", "the `sops` block names no recipients (" + ", ".join(_SOPS_GROUPS) + ")"
    for group in groups:
        for i, entry in enumerate(sops[group]):
            nested = (
                [entry.get(g) for g in _SOPS_GROUPS[:-1]]
                if group == "key_groups" and isinstance(entry, Mapping)
                else [[entry]]
            )
            keys = [k for g in nested if isinstance(g, list) for k in g]
            if not keys or not all(
                isinstance(k, Mapping) and isinstance(k.get("enc"), str) and k["enc"] for k in keys
            ):
                yield (
                    f"/sops/{group}/{i}",
                    f"`sops.{group}[{i}]` is not a recipient entry with an `enc` data key",
                )
