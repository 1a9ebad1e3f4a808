"""Stage "create": what the copier templates (`templates/profile`, `templates/profile-repo`) need from us.

`ProfileExtension`, a Jinja extension for copier (`_jinja_extensions`), adds the `pp_*` globals that plain
Jinja cannot express, so that no rule is written twice:

- `pp_asks(key)`: the chosen `client_type` has this key (from the committed JSON Schema);
- `pp_problem(key)`, `pp_recipients_problem(value, required)`: the problem of an answer, in the words of
  `validate_file` (empty when fine), for copier's `validator`;
- `pp_plain_profile(dst_path)`: the text of `auth_client.json` (a profile without secret values);
- `pp_encrypted_profile(dst_path)`: the text of `auth_client.sops.json`. The document is built in memory
  and fed to `sops` on stdin (`Sops.encrypt_to_bytes`); only ciphertext comes back and copier writes only
  that: the plaintext never touches disk, not even transiently (SECURITY TOK-08). Recipients: the
  `age_recipients` answer, else the `.sops.yaml` creation rule for the target (searched from its directory
  upwards). `dst_path` is copier's `_copier_conf.dst_path`, passed explicitly;
- `pp_secrets_given()`, `pp_encrypted()`, `pp_given(*keys)`, `pp_host(url)`, `pp_is_file(*parts)`: helpers
  for defaults and conditions.

copier (9.x) refuses a `--data` answer that fails a `validator` or is not one of the `choices` with an
uncaught `ValueError`, so its CLI prints a Python traceback before the one line that matters (its CLI
catches only `UserMessageError`, and a validator cannot raise one: copier catches whatever it raises). While
the extension is loaded, `sys.excepthook` prints such a refusal as that one line (`answer_error`), with a
did-you-mean for a misspelled `client_type`; every other exception keeps the usual report.
`planet-profiles new` catches the same `ValueError` and prints the same line.

Custom Jinja extensions are an "unsafe" copier feature: users run `copier copy --trust …`, or list the
template in the `trust` setting of copier's settings file.

`copier update` never renders `auth_client.sops.json` (excluded when `_copier_operation` is `update`, so
copier can neither overwrite nor conflict on ciphertext). The template's update task runs `sync` (`python
-m planet_profiles._copier_ext sync FILE --answers-file ANSWERS`) instead: nothing happens when the
file's clear-text keys match the answers; otherwise the changed keys are set with `sops set` (your sops
key re-computes the MAC), which keeps every secret's ciphertext and the data key byte-identical, so the
review diff shows only what changed. When the secrets change (given again, or a key the new type drops),
the file is decrypted in memory and re-encrypted. Secrets are rotated with `sops edit` or
`planet-profiles encrypt`, not by copier.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import json
import re
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import TypeGuard
from urllib.parse import urlsplit

from copier.errors import UserMessageError  # this module runs inside copier (extension, update task)
from jinja2 import Environment, Undefined, pass_context
from jinja2.ext import Extension
from jinja2.runtime import Context

from ._documents import parse_json
from ._errors import ProfileError, ProfileNameError, SopsError, SopsNoKeyError
from ._names import ENCRYPTED_FILE, ENDPOINT_KEYS, PLAIN_FILE, SECRET_KEYS
from ._problems import PINNED_URL_KEYS, KeyRule
from ._sops import NO_RULE_HINT, Sops
from ._validate import client_types, type_schema, validate_document

__all__ = [
    "AGE_RECIPIENT_PATTERN",
    "TEMPLATE_KEYS",
    "ProfileExtension",
    "answer_error",
    "build_document",
    "encrypt_profile",
    "main",
    "make_private",
    "problem",
    "sync",
]

TEMPLATE_KEYS: tuple[str, ...] = (
    "auth_server",
    "client_id",
    "client_secret",
    "client_auth_method",
    "client_privkey_file",
    "client_privkey",
    "client_privkey_password",
    "username",
    "password",
    "redirect_uri",
    "local_redirect_uri",
    "scopes",
    "audiences",
    "allowed_issuer_hosts",
    "allowed_api_hosts",
    *ENDPOINT_KEYS,
    "legacy_auth_endpoint",
    "api_key",
    "bearer_token_prefix",
)
"""The profile keys the `profile` template asks for, in the order they are written to the file."""

AGE_RECIPIENT_PATTERN = re.compile(r"age1[02-9ac-hj-np-z]{58}|age1[a-z0-9]+1[02-9ac-hj-np-z]+")
"""An age X25519 recipient (`age1` + 58 bech32 characters) or an age plugin recipient (use `fullmatch`)."""

_TEMPLATE_VAR = "template"  # the root copier.yml's choice between `profile` and `profile-repo`


# ---------------------------------------------------------------- the document


def _known_type(client_type: object) -> TypeGuard[str]:
    return isinstance(client_type, str) and client_type in client_types()


def _rule_asked_last(client_type: str, key: str) -> KeyRule | None:
    """The schema's cross-field rule whose keys the template asks for last with `key`, keys in asking order
    (a rule is reported on its last question, when every answer to it is known)."""
    for rule in type_schema(client_type).key_rules:
        asked = tuple(sorted(rule.keys, key=TEMPLATE_KEYS.index))
        if asked[-1] == key:
            return KeyRule(asked, rule.exactly_one)
    return None


def type_keys(client_type: str) -> tuple[str, ...]:
    """The keys of `TEMPLATE_KEYS` that `client_type` has."""
    properties = type_schema(client_type).properties
    return tuple(key for key in TEMPLATE_KEYS if key in properties)


def _given(value: object) -> bool:
    """An answer that sets its key: not missing, null, empty text or an empty list."""
    return value is not None and value != "" and value != [] and not isinstance(value, Undefined)


def build_document(answers: Mapping[str, object], *, with_secrets: bool) -> dict[str, object]:
    """The profile document of copier `answers`: `client_type`, then every key of the type with a value.

    Keys without a value and keys equal to their schema default are left out (no nulls); secret keys only
    `with_secrets`.
    """
    client_type = answers["client_type"]
    assert isinstance(client_type, str)  # a choice of the template (the callers check `_known_type`)
    properties = type_schema(client_type).properties
    doc: dict[str, object] = {"client_type": client_type}
    for key in type_keys(client_type):
        value = answers.get(key)
        if (key in SECRET_KEYS and not with_secrets) or not _given(value):
            continue
        if "default" in properties[key] and value == properties[key]["default"]:
            continue
        doc[key] = list(value) if isinstance(value, (list, tuple)) else value
    return doc


def _secrets_given(answers: Mapping[str, object]) -> list[str]:
    client_type = answers.get("client_type")
    if not _known_type(client_type):
        return []
    return [k for k in build_document(answers, with_secrets=True) if k in SECRET_KEYS]


# ---------------------------------------------------------------- validators


def problem(key: str, answers: Mapping[str, object]) -> str:
    """The problem of the answer to `key` given all `answers` so far, or "" (for copier's `validator`)."""
    value = answers.get(key)
    if key == "profile_name":
        return _name_problem(value)
    client_type = answers.get("client_type")
    if not _known_type(client_type):
        return ""
    if not _given(value):
        if key in type_schema(client_type).required:
            return f"`{key}` is required for client_type `{client_type}`"
        rule = _rule_asked_last(client_type, key)
        if rule is not None and not any(_given(answers.get(k)) for k in rule.keys):
            how = "one" if rule.exactly_one else "at least one"
            keys = " and ".join(f"`{k}`" for k in rule.keys)
            return f"{how} of {keys} is required for client_type `{client_type}`"
        return ""
    doc: dict[str, object] = {"client_type": client_type, key: value}
    related: tuple[str, ...] = ()
    if key == "allowed_issuer_hosts":
        related = PINNED_URL_KEYS
    elif key in PINNED_URL_KEYS:
        related = ("allowed_issuer_hosts",)
    for other in related:  # only well-typed: a later question's `--data` answer is still unparsed here
        answer = answers.get(other)
        typed = _is_str_list(answer) if other == "allowed_issuer_hosts" else isinstance(answer, str)
        if typed and _given(answer) and other in type_schema(client_type).properties:
            doc[other] = answer
    pointers = {f"/{k}" for k in (key, *related) if k in doc and (k == key or key == "allowed_issuer_hosts")}
    messages = [
        p.message
        for p in validate_document(doc, file="answer")
        if p.pointer in pointers or p.pointer.startswith(f"/{key}/")
    ]
    return "; ".join(messages)


def _is_str_list(value: object) -> TypeGuard[list[str]]:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _name_problem(value: object) -> str:
    from ._locations import check_profile_name

    try:
        if check_profile_name(value, source="profile_name") != value:  # a new directory: lower case only
            return "use lower case: profile names are looked up in lower case"
    except ProfileNameError as exc:
        return f"{exc.message}: {exc.hint}"
    return ""


def recipients_problem(value: object, required: bool = False) -> str:
    """The problem of a list of age recipients, or ""."""
    if value is None or value == []:
        return "list at least one age recipient (`age1…`, see `age-keygen -y KEYFILE`)" if required else ""
    if not _is_str_list(value):
        return "must be a list of age recipients, e.g. [age1…, age1…]"
    bad = [i for i, v in enumerate(value) if not AGE_RECIPIENT_PATTERN.fullmatch(v.strip())]
    if bad:
        return f"entry {bad[0]} is not an age recipient (`age1` followed by 58 lower-case bech32 characters)"
    return ""


_CHOICE_ERROR = re.compile(r"Invalid choice for 'client_type': '([^']*)' is not in")


def answer_error(exc: ValueError) -> str:
    """The line that says why copier refused an answer given with `--data` (copier's own message: it names
    the question and, from our validators, the fix), with a did-you-mean for a misspelled `client_type`."""
    message = " ".join(str(exc).split())
    match = _CHOICE_ERROR.match(message)
    if match:
        close = difflib.get_close_matches(match.group(1), client_types(), n=1)
        guess = f"did you mean `{close[0]}`? " if close else ""
        message = (
            f"Invalid choice for 'client_type': {match.group(1)!r}: {guess}"
            f"one of {', '.join(client_types())}"
        )
    return message


def _raised_by_copier(tb: TracebackType | None) -> bool:
    last = None
    while tb is not None:
        last, tb = tb.tb_frame, tb.tb_next
    return last is not None and str(last.f_globals.get("__name__", "")).startswith("copier.")


_ExceptHook = Callable[[type[BaseException], BaseException, TracebackType | None], object]


def _answer_excepthook(
    kind: type[BaseException], value: BaseException, tb: TracebackType | None, *, previous: _ExceptHook
) -> None:
    if isinstance(value, ValueError) and _raised_by_copier(tb):
        print(answer_error(value), file=sys.stderr)  # the process still exits 1 (an uncaught exception)
    else:
        previous(kind, value, tb)


def _install_excepthook() -> None:
    """Report copier's refusal of a `--data` answer as one line instead of a traceback (module docstring)."""
    if getattr(sys.excepthook, "_planet_profiles", False):
        return
    previous = sys.excepthook

    def hook(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
        _answer_excepthook(kind, value, tb, previous=previous)

    hook._planet_profiles = True  # type: ignore[attr-defined]
    sys.excepthook = hook


# ---------------------------------------------------------------- rendering


def _check(doc: Mapping[str, object], target: Path) -> None:
    problems = validate_document(doc, file=str(target))
    if problems:
        hint = "answer what the client type needs (secrets at the prompt or with `--data KEY=…`)"
        listing = "\n".join(map(str, problems))
        raise UserMessageError(f"the answers do not make a valid profile:\n{listing}\n{hint}")


def plain_profile(answers: Mapping[str, object], target: Path) -> str:
    """The text of `auth_client.json` (its secrets, if any, are left out: `_check` then names them)."""
    doc = build_document(answers, with_secrets=False)
    _check(doc, target)
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def encrypt_profile(
    doc: Mapping[str, object],
    target: Path,
    *,
    age_recipients: Sequence[str] = (),
    sops: Sops | None = None,
    retry: str = "run copier again (or give those secrets again)",
) -> bytes:
    """The ciphertext of `auth_client.sops.json` for `doc`, built in memory; nothing is written.

    When `target` exists, its secrets are kept for the keys `doc` does not set: the file is returned
    unchanged if its clear-text keys already equal those of `doc`, else it is decrypted in memory (this
    needs a sops key) and re-encrypted with the clear-text keys of `doc`. `retry` ends the error message
    when no key can decrypt it.
    """
    sops = sops or Sops()
    doc = dict(doc)
    allowed = set(type_keys(str(doc["client_type"]))) & set(SECRET_KEYS)
    if target.is_file():
        raw = target.read_bytes()
        existing, _ = parse_json(raw, file=str(target))
        if not isinstance(existing, dict):
            raise UserMessageError(f"{target}: not a JSON object; delete it or fix it, then run copier again")
        stored = {k for k in SECRET_KEYS if k in existing}
        kept = [k for k in SECRET_KEYS if k in stored & allowed and k not in doc]
        clear = {k: v for k, v in existing.items() if k != "sops" and k not in SECRET_KEYS}
        same = clear == {k: v for k, v in doc.items() if k not in SECRET_KEYS}
        if same and stored <= allowed and not any(k in SECRET_KEYS for k in doc):
            return raw
        if kept == [k for k in SECRET_KEYS if k in stored]:  # only clear-text keys change: set just those
            return _set_clear_keys(target, existing, doc, sops, retry)
        if kept:
            why = f"its clear-text keys change, so it is re-encrypted with its secrets ({', '.join(kept)})"
            with _sops_key_needed(target, why, retry):
                old = sops.decrypt(target)
            doc.update((k, old[k]) for k in kept if k in old)
    ordered = {k: doc[k] for k in ("client_type", *type_keys(str(doc["client_type"]))) if k in doc}
    _check(ordered, target)
    try:
        return bytes(sops.encrypt_to_bytes(ordered, target, age_recipients=list(age_recipients)))
    except SopsError as exc:  # one clear line instead of a traceback
        if exc.hint == NO_RULE_HINT:  # say how recipients are given to copier
            why = "no recipients to encrypt for: no `.sops.yaml` creation rule matches this path"
            exc = SopsError(why, file=exc.file, hint=_NO_RULE_ANSWER)
        raise UserMessageError(str(exc)) from None


def _set_clear_keys(
    target: Path, existing: Mapping[str, object], doc: Mapping[str, object], sops: Sops, retry: str
) -> bytes:
    """`target` with the clear-text keys of `doc` (its secrets kept), through `sops set`/`unset`: every
    secret's ciphertext and the data key stay byte-identical, so a review shows only what changed."""
    checked = {k: v for k, v in existing.items() if k != "sops" and k in SECRET_KEYS} | dict(doc)
    ordered = {k: checked[k] for k in ("client_type", *type_keys(str(doc["client_type"]))) if k in checked}
    _check(ordered, target)
    changed = {k: v for k, v in doc.items() if k not in existing or existing[k] != v}
    removed = [k for k in existing if k != "sops" and k not in SECRET_KEYS and k not in doc]
    with _sops_key_needed(target, "its clear-text keys change, so sops must re-compute its MAC", retry):
        return bytes(sops.set_values(target, changed, remove=removed))


@contextlib.contextmanager
def _sops_key_needed(target: Path, why: str, retry: str) -> Iterator[None]:
    """A sops failure as copier's one-line error; without a key: `why` the key is needed, and `retry`."""
    try:
        yield
    except SopsNoKeyError as exc:
        raise UserMessageError(f"{target}: {why}, and {exc.message}. {exc.hint}; then {retry}") from None
    except ProfileError as exc:
        raise UserMessageError(str(exc)) from None


_NO_RULE_ANSWER = (
    "Give the recipients with `--data \"age_recipients=[$(planet-profiles keygen -y)]\"` (age1… public keys, "
    "comma-separated), or put a `.sops.yaml` with a creation rule for this path in the destination or a "
    "directory above it"
)


def _answers(ctx: Context) -> dict[str, object]:
    return {k: v for k, v in ctx.get_all().items() if not isinstance(v, Undefined)}


class ProfileExtension(Extension):
    """The `pp_*` globals of the planet-profiles copier templates (see the module docstring)."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        functions: dict[str, Callable[..., object]] = {
            "pp_asks": _pp_asks,
            "pp_problem": pass_context(lambda ctx, key: problem(key, _answers(ctx))),
            "pp_recipients_problem": recipients_problem,
            "pp_given": pass_context(lambda ctx, *keys: any(_given(ctx.get(k)) for k in keys)),
            "pp_secrets_given": pass_context(lambda ctx: _secrets_given(_answers(ctx))),
            "pp_encrypted": _pp_encrypted,
            "pp_host": _pp_host,
            "pp_plain_profile": _pp_plain_profile,
            "pp_encrypted_profile": _pp_encrypted_profile,
            "pp_is_file": _pp_is_file,
        }
        environment.globals.update(functions)
        _install_excepthook()


@pass_context
def _pp_asks(ctx: Context, key: str) -> bool:
    """The `profile` template is chosen and its `client_type` has `key`."""
    chosen = ctx.get(_TEMPLATE_VAR)
    if chosen is not None and not isinstance(chosen, Undefined) and chosen != "profile":
        return False
    client_type = ctx.get("client_type")
    return _known_type(client_type) and key in type_keys(client_type)


@pass_context
def _pp_encrypted(ctx: Context) -> bool:
    """The profile is (or will be) `auth_client.sops.json`: `encrypted_keys` once recorded, else secrets."""
    recorded = ctx.get("encrypted_keys")
    if recorded is not None and not isinstance(recorded, Undefined):
        return bool(recorded)
    return bool(_secrets_given(_answers(ctx)))


def _pp_host(url: object) -> str:
    try:
        return (urlsplit(url).hostname or "") if isinstance(url, str) else ""
    except ValueError:
        return ""


@pass_context
def _pp_plain_profile(ctx: Context, dst_path: object) -> str:
    answers = _answers(ctx)
    return plain_profile(answers, Path(str(dst_path), str(answers["profile_name"]), PLAIN_FILE))


@pass_context
def _pp_encrypted_profile(ctx: Context, dst_path: object) -> str:
    answers = _answers(ctx)
    target = Path(str(dst_path), str(answers["profile_name"]), ENCRYPTED_FILE).absolute()
    conf = ctx.get("_copier_conf")
    if isinstance(conf, Mapping) and conf.get("pretend"):
        return "(not encrypted: copier runs with --pretend)\n"
    doc = build_document(answers, with_secrets=True)
    recipients = answers.get("age_recipients")  # a list of strings (`recipients_problem`), or unset
    recipients = recipients if _is_str_list(recipients) else ()
    text = encrypt_profile(doc, target, age_recipients=recipients).decode()
    return text if text.endswith("\n") else text + "\n"


def _pp_is_file(*parts: object) -> bool:
    """`parts` joined name a file (e.g. to skip the update task in copier's throw-away renders)."""
    return Path(*map(str, parts)).is_file()


# ---------------------------------------------------------------- the update task


def sync(target: Path, answers_file: Path, *, sops: Sops | None = None) -> bool:
    """Bring the clear-text keys of `target` in line with `answers_file`; True if the file was rewritten."""
    from ruamel.yaml import YAML

    from ._atomic import atomic_write

    if not target.is_file():
        return False  # copier's throw-away renders during `copier update` have no encrypted file
    answers = YAML(typ="safe", pure=True).load(answers_file.read_text(encoding="utf-8"))
    if not isinstance(answers, Mapping) or not _known_type(answers.get("client_type")):
        raise ProfileError("no valid `client_type` in the copier answers", file=str(answers_file))
    doc = build_document(answers, with_secrets=False)
    retry = f"run `python -m planet_profiles._copier_ext sync {target} --answers-file {answers_file}`"
    recipients = answers.get("age_recipients") or ()
    new = encrypt_profile(doc, target, age_recipients=recipients, sops=sops, retry=retry)
    if new == target.read_bytes():
        return False
    atomic_write(target, new)
    return True


def make_private(directory: Path) -> None:
    """The profile `directory` 0700 and the files in it 0600, as the CLI and the loader make them (copier
    writes 0755 / 0644, the modes of the template's files). Nothing happens when it does not exist (copier's
    throw-away renders)."""
    if not directory.is_dir() or directory.is_symlink():
        return
    directory.chmod(0o700)
    for entry in directory.iterdir():
        if entry.is_file() and not entry.is_symlink():
            entry.chmod(0o600)


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m planet_profiles._copier_ext sync FILE [--answers-file ANSWERS]` (the update task) and
    `… private DIR` (the task after every copy and update: `make_private`)."""
    parser = argparse.ArgumentParser(prog="python -m planet_profiles._copier_ext")
    parser.add_argument(
        "command",
        choices=["sync", "private"],
        help="sync: re-encrypt FILE with the clear-text answers; private: FILE is a profile directory, made "
        "0700 with its files 0600",
    )
    parser.add_argument("file", type=Path, help="the profile's auth_client.sops.json (sync), its directory")
    parser.add_argument("--answers-file", type=Path, help="default: .copier-answers.yml beside FILE")
    args = parser.parse_args(argv)
    try:
        if args.command == "private":
            make_private(args.file)
            return 0
        changed = sync(args.file, args.answers_file or args.file.parent / ".copier-answers.yml")
    except (UserMessageError, ProfileError, OSError) as exc:  # one line, no traceback
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    if changed:
        print(f"{args.file}: clear-text keys updated, secrets kept", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
