"""Stage "validate": every problem of a profile file or document, checked against the committed JSON Schema.

One checker for every caller: the loader (`planet_profiles._config.parse_config`), `planet-profiles validate`
and the pre-commit hooks check documents against `schema/<client_type>.schema.json` (generated from
`planet_profiles._models`, see `planet_profiles._schema`) with `planet_profiles._schemacheck.Checker`, which
needs neither jsonschema nor pydantic (jsonschema stays the tests' oracle). Each type's schema file is read
once a process (`type_schema`, the one schema cache), and the checker's errors become `Problem`s that name the
file, point at the key (RFC 6901 JSON pointer) and say how to fix it, in the words of
`planet_profiles._problems`.

Kinds of file (`validate_file` decides by name; files are read by `planet_profiles._documents.read_profile`):

- `*.sops.json`: sops-encrypted. The shape of the encryption (`planet_profiles._sopscheck`) and the client
  type's schema (an `ENC[…]` value is a string, so it passes).
- anything else (`auth_client.json`): plaintext. It must not hold any secret key.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator, Mapping
from functools import cache, lru_cache
from pathlib import Path
from typing import TypeGuard

from ._documents import Document, read_profile
from ._errors import Problem
from ._names import Record, is_encrypted_name
from ._problems import (
    KeyRule,
    describe,
    is_unicode,
    msg_choice,
    msg_empty,
    msg_invalid,
    msg_key_rule,
    msg_missing,
    msg_not_unicode,
    msg_pattern,
    msg_unknown_client_type,
    msg_unknown_key,
    msg_wrong_type,
    pinned_host_problems,
    pointer,
    sort_problems,
)
from ._schema import INDEX_FILENAME, index_path, schema_filename, schema_path
from ._schemacheck import Checker

__all__ = [
    "TypeSchema",
    "client_types",
    "encryption_problems",
    "is_client_type",
    "type_problems",
    "type_schema",
    "validate_document",
    "validate_file",
    "validate_read",
]


def validate_file(path: str | Path, *, encrypted: bool | None = None) -> list[Problem]:
    """Every problem of one profile file; `encrypted=None` decides by name (`*.sops.json` is encrypted)."""
    return validate_read(read_profile(path), encrypted=encrypted)


def validate_read(read: Document, *, encrypted: bool | None = None) -> list[Problem]:
    """`validate_file` for a file already read by `_documents.read_profile` (the CLI's `list` reads each
    profile once, for its problems and its client type)."""
    if encrypted is None:
        encrypted = is_encrypted_name(read.file)
    problems = list(read.problems)
    if read.data is None:
        return problems
    from ._sopscheck import plaintext_secret_problems  # the loader's path (`type_problems`) needs none of it

    if not encrypted and isinstance(read.data, Mapping):
        problems += plaintext_secret_problems(read.data, read.file)
    return sort_problems(problems + validate_document(read.data, file=read.file, encrypted=encrypted))


def required_key_problems(doc: object, *, file: str, required: Collection[str]) -> list[Problem]:
    """A repository's own rule on top of the schema (the validate hook's `--require KEY`): each of `required`
    that the document's client type has must be set. A team repository requires `allowed_api_hosts`, so no
    profile can send its credential to any host an application calls (SECURITY TOK-12)."""
    client_type = doc.get("client_type") if isinstance(doc, Mapping) else None
    if not required or not isinstance(doc, Mapping) or not is_client_type(client_type):
        return []
    known = type_schema(client_type).properties

    def example(key: str) -> str:
        examples = known[key].get("examples")
        return f", e.g. {json.dumps(examples[0])}" if isinstance(examples, list) and examples else ""

    return [
        Problem(
            file,
            pointer([key]),
            f"`{key}` is required in this repository (its validate hook runs with `--require {key}`)"
            + example(key),
        )
        for key in required
        if key in known and doc.get(key) in (None, "", [])
    ]


def encryption_problems(doc: object, *, file: str, encrypted: bool) -> list[Problem]:
    """Only the encryption rules of one parsed file, without the schema.

    Plaintext: no secret key, no `sops` block. Encrypted: a well-formed `sops` block (MAC, recipients), every
    secret key an `ENC[…]` string, nothing else encrypted. The `planet-profiles-encrypted` hook runs this.
    """
    if not isinstance(doc, Mapping):
        return [_not_an_object(doc, file)]
    from ._sopscheck import plaintext_secret_problems, sops_in_plaintext, sops_problems

    if encrypted:
        return sort_problems(sops_problems(doc, file, set()))
    return sort_problems(plaintext_secret_problems(doc, file) + sops_in_plaintext(doc, file))


def _not_an_object(doc: object, file: str) -> Problem:
    return Problem(file, "", f"a profile must be a JSON object; got {describe(doc)}")


def validate_document(doc: object, *, file: str, encrypted: bool = False) -> list[Problem]:
    """Every problem of one parsed document: plaintext, decrypted, or (`encrypted=True`) still encrypted."""
    if not isinstance(doc, Mapping):
        return [_not_an_object(doc, file)]
    from ._sopscheck import sops_in_plaintext, sops_problems

    problems: list[Problem] = []
    skip: set[str] = {"sops"}  # top-level keys already reported: no schema noise about them
    problems += sops_problems(doc, file, skip) if encrypted else sops_in_plaintext(doc, file)
    problems += type_problems({k: val for k, val in doc.items() if k != "sops"}, file, skip)
    return sort_problems(problems)


def type_problems(doc: Mapping[str, object], file: str, skip: Collection[str] = ()) -> list[Problem]:
    """Dispatch on `client_type` and check against that type's schema only (no noise from other types);
    keys in `skip` were reported already."""
    client_type = doc.get("client_type")
    if "client_type" in skip:
        return []
    if "client_type" not in doc:
        return [
            Problem(
                file, "/client_type", msg_missing("client_type") + "; one of: " + ", ".join(client_types())
            )
        ]
    if not is_client_type(client_type):
        return [Problem(file, "/client_type", msg_unknown_client_type(client_type, client_types()))]
    spec = type_schema(client_type)
    broken = _non_unicode_problems(doc, spec.properties, file)
    reported = {p.pointer for p in broken}  # a string that is no text has no other problem worth telling
    problems = broken + [
        p
        for p in _schema_problems(spec, doc, file)
        if p.pointer.split("/")[1] not in skip and p.pointer not in reported
    ]
    if "allowed_issuer_hosts" in spec.properties:
        problems += (Problem(file, ptr, msg) for ptr, msg in pinned_host_problems(doc))
    return problems


def _non_unicode_problems(
    doc: Mapping[str, object], known: Mapping[str, Mapping[str, object]], file: str
) -> list[Problem]:
    """Values of `type: string` keys (and items of arrays of strings) that UTF-8 cannot encode: pydantic
    refuses those (`string_unicode`) before any other check. Enums and `const`s refuse them by themselves."""
    found: list[Problem] = []
    for key, value in doc.items():
        schema = known.get(key, {})
        items = schema.get("items")
        if schema.get("type") == "string":
            candidates: list[tuple[list[str | int], object]] = [([key], value)]
        elif isinstance(value, list) and isinstance(items, Mapping) and items.get("type") == "string":
            candidates = [([key, index], item) for index, item in enumerate(value)]
        else:
            continue
        found += (
            Problem(file, pointer(parts), msg_not_unicode(parts))
            for parts, item in candidates
            if isinstance(item, str) and not is_unicode(item)
        )
    return found


def _schema_problems(spec: TypeSchema, doc: Mapping[str, object], file: str) -> Iterator[Problem]:
    """The checker's errors (or jsonschema's, in the tests) as `Problem`s. A keyword's value has the shape the
    committed schema gives it (the checker refuses others); the instance is narrowed where it is read."""
    client_type = spec.client_type
    for error in spec.checker.iter_errors(doc):
        parts = list(error.absolute_path)
        where = pointer(parts)
        kind, value, instance = error.validator, error.validator_value, error.instance
        if kind == "required":
            assert isinstance(value, list) and isinstance(instance, Mapping)
            for key in value:
                if key not in instance:
                    yield Problem(file, pointer([key]), msg_missing(key))
        elif kind == "additionalProperties":
            assert isinstance(instance, Mapping)
            known = spec.properties
            types, keys_of = _index()
            for key in instance:
                if key not in known:
                    owners = [t for t in types if key in keys_of[t]]
                    yield Problem(file, pointer([key]), msg_unknown_key(key, client_type, known, owners))
        elif (
            kind in ("anyOf", "oneOf")
            and isinstance(value, list)
            and all(isinstance(s, Mapping) and set(s) == {"required"} for s in value)
        ):
            rule = KeyRule(tuple(k for s in value for k in s["required"]), kind == "oneOf")
            found = msg_key_rule(rule, instance) if isinstance(instance, Mapping) else None
            yield Problem(file, pointer([rule.keys[0]]), found or msg_invalid([], kind))
        elif kind == "type":
            assert isinstance(value, (str, list))
            yield Problem(
                file,
                where,
                msg_wrong_type(
                    parts,
                    value if isinstance(value, str) else str(value[0]),
                    instance,
                    error.schema.get("examples"),
                    required=bool(parts) and parts[0] in spec.required,
                ),
            )
        elif kind == "pattern":
            yield Problem(file, where, msg_pattern(parts, str(value)))
        elif kind in ("minLength", "minItems"):
            yield Problem(file, where, msg_empty(parts, instance))
        elif kind == "enum":
            assert isinstance(value, list)
            yield Problem(file, where, msg_choice(parts, value))
        elif kind == "const":
            yield Problem(file, where, msg_choice(parts, [value]))
        else:
            yield Problem(file, where, msg_invalid(parts, kind))


# ---------------------------------------------------------------- the committed schema files, read once


class TypeSchema(Record):
    """What one client type's schema file says: the schema, its checker and its cross-field rules."""

    __slots__ = ()

    client_type: str
    schema: Mapping[str, object]
    checker: Checker
    key_rules: tuple[KeyRule, ...]
    properties: Mapping[str, Mapping[str, object]]
    required: frozenset[str]


@cache
def type_schema(client_type: str) -> TypeSchema:
    """The committed schema of `client_type` (a known type: see `is_client_type`), read once a process."""
    schema = json.loads(schema_path(client_type).read_text(encoding="utf-8"))
    key_rules = tuple(
        KeyRule(tuple(alt["required"][0] for alt in alternatives), kind == "oneOf")
        for rule in schema.get("allOf", ())
        for kind, alternatives in rule.items()
    )
    # (our own generated file, of the shape `planet_profiles._schema` writes: read as JSON, not narrowed)
    properties, required = schema["properties"], frozenset(schema.get("required", ()))
    return TypeSchema(client_type, schema, Checker(schema), key_rules, properties, required)


def is_client_type(value: object) -> TypeGuard[str]:
    """Whether `value` names a client type with a schema file (without reading the 100 kB index schema)."""
    return isinstance(value, str) and _has_schema(value)


_TYPE_START = frozenset("abcdefghijklmnopqrstuvwxyz")
_TYPE_CHARS = _TYPE_START | {"_"}


def _type_shaped(value: str) -> bool:
    """Whether `value` has the shape of a client type, `[a-z][a-z_]*` (ASCII; checked with sets: a regex
    would be compiled at every cold start)."""
    return value[:1] in _TYPE_START and _TYPE_CHARS.issuperset(value)


@cache
def _has_schema(client_type: str) -> bool:
    if not _type_shaped(client_type) or schema_filename(client_type) == INDEX_FILENAME:
        return False
    return schema_path(client_type).is_file()


def client_types() -> tuple[str, ...]:
    """Every client type, in the schema's order."""
    return _index()[0]


@lru_cache(maxsize=1)
def _index() -> tuple[tuple[str, ...], Mapping[str, frozenset[str]]]:
    """Every client type (in the schema's order) and the keys of each, from the index schema."""
    index = json.loads(index_path().read_text(encoding="utf-8"))
    types = tuple(index["properties"]["client_type"]["enum"])
    return types, {t: frozenset(index["$defs"][t]["properties"]) for t in types}
