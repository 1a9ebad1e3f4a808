"""Validate profile files and documents against the committed JSON Schema files.

This is the pre-commit / CI path: it imports neither pydantic nor the models. It reads
`schema/<client_type>.schema.json` (see `planet_profiles._schema.schema_dir`), builds one
`Draft202012Validator` per client type on first use, and turns jsonschema errors into `Problem`s that name
the file, point at the key (RFC 6901 JSON pointer) and say how to fix it.

It also holds the small vocabulary shared with `planet_profiles._models` (secret keys, patterns, the
cross-field rules, message wording), so that the model and the schema path word every problem the same way.

Kinds of file (`validate_file` decides by name):

- `*.sops.json`: sops-encrypted. The `sops` block must have the right shape, every secret key must be an
  `ENC[AES256_GCM,…,type:str]` value, every other key must be clear text (the project's `encrypted_regex`),
  and the document must match its client type's schema (an `ENC[…]` value is a string, so it passes).
- anything else (`auth_client.json`): plaintext. It must not hold any secret key.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from functools import cache, lru_cache
from pathlib import Path
from typing import Any, NamedTuple, TypeGuard
from urllib.parse import urlsplit

from planet_profiles._contract import ENCRYPTED_REGEX, ENDPOINT_KEYS, SECRET_KEYS
from planet_profiles._errors import Problem
from planet_profiles._schema import INDEX_FILENAME, index_path, schema_filename, schema_path

__all__ = [
    "ENC_PATTERN",
    "encryption_problems",
    "is_encrypted_name",
    "parse_json",
    "read_file",
    "validate_document",
    "validate_file",
]

# ---------------------------------------------------------------- vocabulary shared with _models

ENC_PATTERN = re.compile(
    r"^ENC\[AES256_GCM,data:(?P<data>[A-Za-z0-9+/=]*),iv:(?P<iv>[A-Za-z0-9+/=]+),"
    r"tag:(?P<tag>[A-Za-z0-9+/=]+),type:(?P<type>[a-z]+)\]\Z"
)
"""A value encrypted by sops; group `type` is the clear value's type (`str`, `float`, `bool`, …)."""

_HOST = r"(?:[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])"
_LOOPBACK = r"http://(?:127\.0\.0\.1|localhost|\[::1\])(?::[0-9]{1,5})?"
_REST = r"(?:[/?#][\x21-\x7E]*)?"
HTTPS_URL_PATTERN = rf"^(?:https://{_HOST}(?::[0-9]{{1,5}})?|{_LOOPBACK}){_REST}$"
LOOPBACK_URL_PATTERN = rf"^{_LOOPBACK}{_REST}$"
URI_PATTERN = r"^[A-Za-z][A-Za-z0-9+.-]*:[\x21-\x7E]+$"
HOST_PATTERN = rf"^{_HOST}$"
SCOPE_PATTERN = r"^[\x21\x23-\x5B\x5D-\x7E]+$"  # RFC 6749 §3.3 scope-token
VISIBLE_ASCII_PATTERN = r"^[\x21-\x7E]+$"
REFRESH_WINDOW_PATTERN = r"^(?:[0-9]{1,6}s|(?:[1-9]|[1-8][0-9]|90)%)$"

PATTERN_HINTS = {
    HTTPS_URL_PATTERN: "an https URL such as `https://login.example.com` (plain http only for 127.0.0.1, "
    "localhost or [::1]), without spaces or user info",
    LOOPBACK_URL_PATTERN: "a loopback http URL such as `http://127.0.0.1:8080/callback` (RFC 8252 §7.3)",
    URI_PATTERN: "an absolute URI such as `https://app.example.com/callback`, without spaces",
    HOST_PATTERN: "a bare host name such as `login.example.com` (no scheme, port or path)",
    SCOPE_PATTERN: "a single scope such as `openid` (no spaces, quotes or backslashes; RFC 6749 §3.3)",
    VISIBLE_ASCII_PATTERN: "a non-empty value of visible ASCII characters without spaces",
    REFRESH_WINDOW_PATTERN: "seconds such as `120s`, or a share of the token's lifetime from `1%` to `90%` "
    "such as `25%`",
}

"""Endpoint overrides of the OIDC types; each takes precedence over OIDC discovery."""

PINNED_URL_KEYS = ("auth_server", "issuer", *ENDPOINT_KEYS)
"""URL keys whose host must be in `allowed_issuer_hosts` when that key is set (SECURITY DISC-02)."""


class KeyRule(NamedTuple):
    """A cross-field rule: at least one (or exactly one) of `keys` must be set."""

    keys: tuple[str, ...]
    exactly_one: bool


RuleProblem = tuple[str, str]  # (json pointer, message)


def pointer(parts: Sequence[str | int]) -> str:
    """RFC 6901 JSON pointer of a path."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def label(parts: Sequence[str | int]) -> str:
    """How a message names a location: `scopes`, `scopes[0]`."""
    if not parts:
        return "the document"
    return str(parts[0]) + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in parts[1:])


def describe(value: Any) -> str:
    """The JSON type of a value in words (never the value itself: it could be a secret)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, Mapping):
        return "an object"
    return f"a {type(value).__name__}"


_EXPECTED = {
    "string": "a string",
    "array": "a list of strings",
    "object": "a JSON object",
    "boolean": "true or false",
    "number": "a number",
    "integer": "a whole number",
    "null": "null",
}


def _quote_all(values: Collection[Any]) -> str:
    return ", ".join(f"`{v}`" for v in values)


def did_you_mean(word: str, candidates: Collection[str]) -> str | None:
    import difflib

    close = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.75)
    return close[0] if close else None


def msg_missing(key: str) -> str:
    return f"missing required key `{key}`"


def msg_wrong_type(
    parts: Sequence[str | int], expected: str, value: Any, examples: Any = None, *, required: bool = False
) -> str:
    words = _EXPECTED.get(expected, f"of type {expected}")
    example = f", e.g. {json.dumps(examples[0])}" if isinstance(examples, list) and examples else ""
    optional = len(parts) == 1 and not required
    got = "null (leave the key out instead)" if value is None and optional else describe(value)
    return f"`{label(parts)}` must be {words}{example}; got {got}"


def msg_pattern(parts: Sequence[str | int], pattern: str) -> str:
    return f"`{label(parts)}` must be {PATTERN_HINTS.get(pattern, f'a string matching `{pattern}`')}"


def msg_empty(parts: Sequence[str | int], value: Any) -> str:
    what = "list at least one entry" if isinstance(value, list) else "not be empty"
    return f"`{label(parts)}` must {what}"


def msg_choice(parts: Sequence[str | int], allowed: Collection[Any]) -> str:
    return f"`{label(parts)}` must be one of {_quote_all(allowed)}"


def msg_invalid(parts: Sequence[str | int], kind: str) -> str:
    return f"`{label(parts)}` is not valid ({kind})"


def msg_unknown_client_type(value: Any, client_types: Sequence[str]) -> str:
    valid = "valid types: " + ", ".join(client_types)
    if not isinstance(value, str):
        return f"`client_type` must be a string; got {describe(value)}; {valid}"
    shown = value if len(value) <= 40 else value[:37] + "..."
    guess = did_you_mean(value, client_types)
    hint = f" (did you mean `{guess}`?)" if guess else ""
    return f"unknown client_type `{shown}`{hint}; {valid}"


def msg_unknown_key(key: str, client_type: str, known: Collection[str], owners: Sequence[str]) -> str:
    """Unknown key, with a did-you-mean from the type's keys, or the client types that do have this key."""
    family = [t for t in owners if t.startswith(client_type) or client_type.startswith(t)]
    if family:
        return (
            f"unknown key `{key}` for client_type `{client_type}` (did you mean client_type `{family[0]}`?)"
        )
    guess = did_you_mean(key, known)
    if guess:
        return f"unknown key `{key}` (did you mean `{guess}`?)"
    if owners:
        return f"unknown key `{key}` for client_type `{client_type}`: it belongs to {_quote_all(owners[:3])}"
    return f"unknown key `{key}` for client_type `{client_type}`; valid keys: {', '.join(sorted(known))}"


def msg_key_rule(rule: KeyRule, doc: Mapping[str, Any]) -> str | None:
    """The message for a broken `KeyRule`, or None when the document satisfies it."""
    present = [k for k in rule.keys if k in doc]
    if not present:
        how = "exactly one" if rule.exactly_one else "at least one"
        return f"{how} of {_quote_all(rule.keys)} is required"
    if rule.exactly_one and len(present) > 1:
        return f"set only one of {_quote_all(present)}, not both"
    return None


def key_rule_problems(doc: Mapping[str, Any], rules: Sequence[KeyRule]) -> list[RuleProblem]:
    out = []
    for rule in rules:
        message = msg_key_rule(rule, doc)
        if message:
            out.append((pointer([rule.keys[0]]), message))
    return out


def _host(url: str) -> str | None:
    try:
        return urlsplit(url).hostname
    except ValueError:
        return None


def pinned_host_problems(doc: Mapping[str, Any]) -> list[RuleProblem]:
    """SECURITY DISC-02: with `allowed_issuer_hosts` set, every auth-server URL must point at one of them.

    JSON Schema cannot compare one key's value with another's, so this check lives here and runs on both
    paths (models and schema validation); the schema documents it in `allowed_issuer_hosts`.
    """
    allowed = doc.get("allowed_issuer_hosts")
    if not isinstance(allowed, list) or not allowed or not all(isinstance(h, str) for h in allowed):
        return []
    hosts = {h.lower().strip("[]") for h in allowed}
    out = []
    for key in PINNED_URL_KEYS:
        url = doc.get(key)
        if not isinstance(url, str) or not re.match(HTTPS_URL_PATTERN, url):
            continue  # missing, or reported by the type / pattern check
        host = _host(url)
        if host is None:
            out.append(
                (pointer([key]), f"`{key}` has no host that can be checked against `allowed_issuer_hosts`")
            )
        elif host not in hosts:
            out.append(
                (
                    pointer([key]),
                    f"host `{host}` of `{key}` is not in `allowed_issuer_hosts` "
                    f"({', '.join(sorted(hosts))}); fix the URL, or add the host if that server is trusted",
                )
            )
    return out


def sort_problems(problems: Sequence[Problem]) -> list[Problem]:
    return sorted(dict.fromkeys(problems), key=lambda p: (p.pointer, p.message))


# ---------------------------------------------------------------- reading files


def parse_json(data: bytes | str, *, file: str) -> tuple[Any, list[Problem]]:
    """Parse one JSON document; problems (not exceptions) for empty input, bad UTF-8 or JSON, duplicate keys.

    Duplicate keys are an error: a reviewer reads the first value, a JSON parser keeps the last.
    """
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            return None, [Problem(file, "", f"not UTF-8 text (byte {exc.start}); save the file as UTF-8")]
    if not data.strip():
        return None, [
            Problem(file, "", "the file is empty; a profile is a JSON object with at least `client_type`")
        ]
    duplicates: list[Problem] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: dict[str, Any] = {}
        for key, value in items:
            if key in seen:
                duplicates.append(Problem(file, pointer([key]), f"duplicate key `{key}`; keep only one"))
            seen[key] = value
        return seen

    try:
        doc = json.loads(data, object_pairs_hook=pairs)
    except json.JSONDecodeError as exc:
        return None, [Problem(file, "", f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}")]
    return doc, duplicates


def read_file(path: str | Path) -> tuple[Any, list[Problem]]:
    """Read and parse one profile file: `(document or None, problems)`, never an exception."""
    file = str(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        return None, [Problem(file, "", f"cannot read the file: {exc.strerror or exc}")]
    return parse_json(raw, file=file)


def is_encrypted_name(path: str | Path) -> bool:
    """How a file's name says it is sops-encrypted: `*.sops.json`."""
    return Path(path).name.endswith(".sops.json")


def validate_file(path: str | Path, *, encrypted: bool | None = None) -> list[Problem]:
    """Every problem of one profile file; `encrypted=None` decides by name (`*.sops.json` is encrypted)."""
    file = str(path)
    if encrypted is None:
        encrypted = is_encrypted_name(path)
    doc, problems = read_file(path)
    if doc is None:
        return problems
    if not encrypted and isinstance(doc, Mapping):
        problems += _plaintext_secret_problems(doc, file)
    return sort_problems(problems + validate_document(doc, file=file, encrypted=encrypted))


def encryption_problems(doc: Any, *, file: str, encrypted: bool) -> list[Problem]:
    """Only the encryption rules of one parsed file, without the schema (and without importing jsonschema).

    Plaintext: no secret key, no `sops` block. Encrypted: a well-formed `sops` block (MAC, recipients), every
    secret key an `ENC[…]` string, nothing else encrypted. The `planet-profiles-encrypted` hook runs this.
    """
    if not isinstance(doc, Mapping):
        return validate_document(doc, file=file)  # "a profile must be a JSON object"
    if encrypted:
        return sort_problems(_sops_problems(doc, file, set()))
    return sort_problems(_plaintext_secret_problems(doc, file) + _sops_in_plaintext(doc, file))


def _plaintext_secret_problems(doc: Mapping[str, Any], file: str) -> list[Problem]:
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


def _sops_in_plaintext(doc: Mapping[str, Any], file: str) -> list[Problem]:
    if "sops" not in doc:
        return []
    return [Problem(file, "/sops", "this file has a `sops` block: name encrypted files `*.sops.json`")]


# ---------------------------------------------------------------- documents


def validate_document(doc: Any, *, file: str, encrypted: bool = False) -> list[Problem]:
    """Every problem of one parsed document: plaintext, decrypted, or (`encrypted=True`) still encrypted."""
    if not isinstance(doc, Mapping):
        return [Problem(file, "", f"a profile must be a JSON object; got {describe(doc)}")]
    problems: list[Problem] = []
    skip: set[str] = {"sops"}  # top-level keys already reported: no schema noise about them
    problems += _sops_problems(doc, file, skip) if encrypted else _sops_in_plaintext(doc, file)
    problems += type_problems({k: val for k, val in doc.items() if k != "sops"}, file, skip)
    return sort_problems(problems)


def type_problems(
    doc: Mapping[str, Any],
    file: str,
    skip: set[str],
    validator_for: Callable[[str], tuple[Mapping[str, Any], Any]] | None = None,
) -> list[Problem]:
    """Dispatch on `client_type` and validate against that type's schema only (no noise from other types).

    `validator_for(client_type)` gives `(schema, validator)`; default: jsonschema's (`_validator`). The
    loader passes `planet_profiles._config`'s, which needs neither jsonschema nor pydantic.
    """
    client_type = doc.get("client_type")
    if "client_type" in skip:
        return []
    if "client_type" not in doc:
        types = _index().types
        return [Problem(file, "/client_type", msg_missing("client_type") + "; one of: " + ", ".join(types))]
    if not is_client_type(client_type):
        return [Problem(file, "/client_type", msg_unknown_client_type(client_type, _index().types))]
    schema, validator = (validator_for or _validator)(client_type)
    problems = [
        p for p in _schema_problems(validator, schema, doc, file) if p.pointer.split("/")[1] not in skip
    ]
    if "allowed_issuer_hosts" in schema["properties"]:
        problems += (Problem(file, ptr, msg) for ptr, msg in pinned_host_problems(doc))
    return problems


def _schema_problems(
    validator: Any, schema: Mapping[str, Any], doc: Mapping[str, Any], file: str
) -> Iterator[Problem]:
    client_type = schema["properties"]["client_type"]["const"]
    for error in validator.iter_errors(doc):
        parts = list(error.absolute_path)
        where = pointer(parts)
        kind, value, instance = error.validator, error.validator_value, error.instance
        if kind == "required":
            for key in value:
                if key not in instance:
                    yield Problem(file, pointer([key]), msg_missing(key))
        elif kind == "additionalProperties":
            known = schema["properties"]
            index = _index()
            for key in instance:
                if key not in known:
                    owners = [t for t in index.types if key in index.keys[t]]
                    yield Problem(file, pointer([key]), msg_unknown_key(key, client_type, known, owners))
        elif kind in ("anyOf", "oneOf") and all(set(s) == {"required"} for s in value):
            rule = KeyRule(tuple(k for s in value for k in s["required"]), kind == "oneOf")
            yield Problem(
                file, pointer([rule.keys[0]]), msg_key_rule(rule, instance) or msg_invalid([], kind)
            )
        elif kind == "type":
            yield Problem(
                file,
                where,
                msg_wrong_type(
                    parts,
                    value if isinstance(value, str) else value[0],
                    instance,
                    error.schema.get("examples"),
                    required=bool(parts) and parts[0] in schema["required"],
                ),
            )
        elif kind == "pattern":
            yield Problem(file, where, msg_pattern(parts, value))
        elif kind in ("minLength", "minItems"):
            yield Problem(file, where, msg_empty(parts, instance))
        elif kind == "enum":
            yield Problem(file, where, msg_choice(parts, value))
        elif kind == "const":
            yield Problem(file, where, msg_choice(parts, [value]))
        else:
            yield Problem(file, where, msg_invalid(parts, kind))


def _is_enc(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("ENC[")


def _enc_paths(value: Any, parts: list[str | int]) -> Iterator[list[str | int]]:
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


def _sops_problems(doc: Mapping[str, Any], file: str, skip: set[str]) -> list[Problem]:
    """Shape of the `sops` block, secrets encrypted, all else clear text; adds to `skip` the keys reported."""
    problems = [
        Problem(file, ptr, f"{_NOT_SOPS}: {msg}") for ptr, msg in _sops_block_problems(doc.get("sops"))
    ]
    for key in SECRET_KEYS:
        if key not in doc or doc[key] is None:
            continue
        match = ENC_PATTERN.match(doc[key]) if isinstance(doc[key], str) else None
        if match is None:
            state = "is empty" if doc[key] == "" else f"is not encrypted: {_HOW}"
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


def _sops_block_problems(sops: Any) -> Iterator[RuleProblem]:
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


# ---------------------------------------------------------------- schema loading (once per process)


class _Index(NamedTuple):
    types: tuple[str, ...]
    keys: Mapping[str, frozenset[str]]


def is_client_type(value: Any) -> TypeGuard[str]:
    """Whether `value` names a client type with a schema file (without reading the 100 kB index schema)."""
    return isinstance(value, str) and _has_schema(value)


@cache
def _has_schema(client_type: str) -> bool:
    if not re.fullmatch(r"[a-z][a-z_]*", client_type) or schema_filename(client_type) == INDEX_FILENAME:
        return False
    return schema_path(client_type).is_file()


@lru_cache(maxsize=1)
def _index() -> _Index:
    index = json.loads(index_path().read_text(encoding="utf-8"))
    types = tuple(index["properties"]["client_type"]["enum"])
    return _Index(types, {t: frozenset(index["$defs"][t]["properties"]) for t in types})


@cache
def _validator(client_type: str) -> tuple[dict[str, Any], Any]:
    schema = json.loads(schema_path(client_type).read_text(encoding="utf-8"))
    return schema, _validator_class()(schema)


@lru_cache(maxsize=1)
def _validator_class() -> Any:
    """Draft 2020-12 with ECMA-262 `$` in `pattern` (end of input; Python's `$` also matches before a final
    newline), so this validator, check-jsonschema (ECMA regexes) and pydantic (Rust regexes) agree."""
    from jsonschema import Draft202012Validator, ValidationError, validators

    from planet_profiles._schemacheck import ecma_regex

    def pattern(validator: Any, patrn: str, instance: Any, schema: Any) -> Iterator[Any]:
        if not validator.is_type(instance, "string"):
            return
        if not ecma_regex(patrn).search(instance):
            yield ValidationError(f"does not match {patrn!r}")

    check: Callable[..., Any] = pattern
    return validators.extend(Draft202012Validator, {"pattern": check})
