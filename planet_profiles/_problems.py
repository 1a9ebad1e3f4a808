"""The words of every problem, and the rules that models and schema check share.

`planet_profiles._models` (pydantic, the source of the schema) and the schema check of a document
(`planet_profiles._validate`, run by the loader, `validate` and the hooks) word every problem with the
functions here, so a profile gets the same message whichever path checks it. Also here: the string patterns
the schema files are generated with (and their hints), the cross-field `KeyRule`s, and the rule JSON Schema
cannot express (`pinned_host_problems`, SECURITY DISC-02). Nothing here reads a file or imports anything
heavy."""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Mapping, Sequence
from urllib.parse import urlsplit

from ._errors import Problem
from ._names import ENDPOINT_KEYS, Record

__all__ = [
    "API_HOST_PATTERN",
    "HOST_PATTERN",
    "HTTPS_URL_PATTERN",
    "LOOPBACK_URL_PATTERN",
    "PATTERN_HINTS",
    "PINNED_URL_KEYS",
    "REFRESH_WINDOW_PATTERN",
    "SCOPE_PATTERN",
    "URI_PATTERN",
    "VISIBLE_ASCII_PATTERN",
    "KeyRule",
    "RuleProblem",
    "describe",
    "did_you_mean",
    "key_rule_problems",
    "label",
    "msg_choice",
    "msg_empty",
    "msg_invalid",
    "msg_key_rule",
    "msg_missing",
    "msg_pattern",
    "msg_unknown_client_type",
    "msg_unknown_key",
    "msg_wrong_type",
    "pinned_host_problems",
    "pointer",
    "sort_problems",
]

_HOST = r"(?:[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])"
_LOOPBACK = r"http://(?:127\.0\.0\.1|localhost|\[::1\])(?::[0-9]{1,5})?"
_REST = r"(?:[/?#][\x21-\x7E]*)?"
HTTPS_URL_PATTERN = rf"^(?:https://{_HOST}(?::[0-9]{{1,5}})?|{_LOOPBACK}){_REST}$"
LOOPBACK_URL_PATTERN = rf"^{_LOOPBACK}{_REST}$"
URI_PATTERN = r"^[A-Za-z][A-Za-z0-9+.-]*:[\x21-\x7E]+$"
HOST_PATTERN = rf"^{_HOST}$"
_PORT = r"(?::[0-9]{1,5})?"
API_HOST_PATTERN = rf"^(?:https://{_HOST}{_PORT}/?|{_LOOPBACK}/?|{_HOST}{_PORT})$"
SCOPE_PATTERN = r"^[\x21\x23-\x5B\x5D-\x7E]+$"  # RFC 6749 §3.3 scope-token
VISIBLE_ASCII_PATTERN = r"^[\x21-\x7E]+$"
REFRESH_WINDOW_PATTERN = r"^(?:[0-9]{1,6}s|(?:[1-9]|[1-8][0-9]|90)%)$"

PATTERN_HINTS = {
    HTTPS_URL_PATTERN: "an https URL such as `https://login.example.com` (plain http only for 127.0.0.1, "
    "localhost or [::1]), without spaces or user info",
    LOOPBACK_URL_PATTERN: "a loopback http URL such as `http://127.0.0.1:8080/callback` (RFC 8252 §7.3)",
    URI_PATTERN: "an absolute URI such as `https://app.example.com/callback`, without spaces",
    HOST_PATTERN: "a bare host name such as `login.example.com` (no scheme, port or path)",
    API_HOST_PATTERN: "an origin such as `https://api.example.com` or `https://api.example.com:8443`, or "
    "`host[:port]` (https; plain http only for 127.0.0.1, localhost or [::1]), without a path",
    SCOPE_PATTERN: "a single scope such as `openid` (no spaces, quotes or backslashes; RFC 6749 §3.3)",
    VISIBLE_ASCII_PATTERN: "a non-empty value of visible ASCII characters without spaces",
    REFRESH_WINDOW_PATTERN: "seconds such as `120s`, or a share of the token's lifetime from `1%` to `90%` "
    "such as `25%`",
}

PINNED_URL_KEYS = ("auth_server", "issuer", *ENDPOINT_KEYS)
"""URL keys whose host must be in `allowed_issuer_hosts` when that key is set (SECURITY DISC-02)."""


class KeyRule(Record):
    """A cross-field rule: at least one (or exactly one) of `keys` must be set."""

    __slots__ = ()

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


def describe(value: object) -> str:
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


def _quote_all(values: Collection[object]) -> str:
    return ", ".join(f"`{v}`" for v in values)


def did_you_mean(word: str, candidates: Collection[str]) -> str | None:
    import difflib

    close = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.75)
    return close[0] if close else None


def msg_missing(key: str) -> str:
    return f"missing required key `{key}`"


def msg_wrong_type(
    parts: Sequence[str | int],
    expected: str,
    value: object,
    examples: object = None,
    *,
    required: bool = False,
) -> str:
    words = _EXPECTED.get(expected, f"of type {expected}")
    example = f", e.g. {json.dumps(examples[0])}" if isinstance(examples, list) and examples else ""
    optional = len(parts) == 1 and not required
    got = "null (leave the key out instead)" if value is None and optional else describe(value)
    return f"`{label(parts)}` must be {words}{example}; got {got}"


def msg_pattern(parts: Sequence[str | int], pattern: str) -> str:
    return f"`{label(parts)}` must be {PATTERN_HINTS.get(pattern, f'a string matching `{pattern}`')}"


def msg_empty(parts: Sequence[str | int], value: object) -> str:
    what = "list at least one entry" if isinstance(value, list) else "not be empty"
    return f"`{label(parts)}` must {what}"


def msg_choice(parts: Sequence[str | int], allowed: Collection[object]) -> str:
    return f"`{label(parts)}` must be one of {_quote_all(allowed)}"


def msg_invalid(parts: Sequence[str | int], kind: str) -> str:
    return f"`{label(parts)}` is not valid ({kind})"


def msg_not_unicode(parts: Sequence[str | int]) -> str:
    return f"`{label(parts)}` is not valid Unicode text (a lone surrogate escape such as `\\ud800`)"


def is_unicode(text: str) -> bool:
    """False for a string JSON can hold but UTF-8 cannot encode: one with a lone surrogate (`"\\ud800"`)."""
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def msg_unknown_client_type(value: object, client_types: Sequence[str]) -> str:
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


def msg_key_rule(rule: KeyRule, doc: Mapping[str, object]) -> str | None:
    """The message for a broken `KeyRule`, or None when the document satisfies it."""
    present = [k for k in rule.keys if k in doc]
    if not present:
        how = "exactly one" if rule.exactly_one else "at least one"
        return f"{how} of {_quote_all(rule.keys)} is required"
    if rule.exactly_one and len(present) > 1:
        return f"set only one of {_quote_all(present)}, not both"
    return None


def key_rule_problems(doc: Mapping[str, object], rules: Sequence[KeyRule]) -> list[RuleProblem]:
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


def pinned_host_problems(doc: Mapping[str, object]) -> list[RuleProblem]:
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
