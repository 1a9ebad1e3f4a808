"""The pre-commit hooks of `.pre-commit-hooks.yaml`: schema check and encryption check of profile files.

- `planet-profiles-validate` (`main_validate`): every `auth_client.json` / `auth_client.sops.json` given is
  schema-valid (`planet_profiles._validate.validate_file`), the encrypted ones without any key; with
  `--require KEY` (a repository's own rule, e.g. a team repository's `allowed_api_hosts`), sets that key.
Both read files as every other part of the package does (`planet_profiles._documents.read_profile`).
- `planet-profiles-encrypted` (`main_encrypted`): secrets only in `auth_client.sops.json`, and there really
  encrypted (`ENC[…]`, a `sops` block with a MAC and recipients), and encrypted for exactly the recipients
  that the `.sops.yaml` creation rule for its path names (`planet_profiles._sops_rules.recipient_problems`):
  the `sops` block is not covered by the MAC, so a pull request could otherwise add a recipient.

Both take any number of files in one call, print each problem as `file: pointer: message` and exit 1 when
there is one. They never decrypt, need no key, and import neither pydantic nor the HTTP or crypto libraries;
the encryption check does not import jsonschema either. Also runnable as
`python -m planet_profiles._hooks {validate,encrypted} FILE...`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from ._documents import read_profile
from ._errors import Problem
from ._names import is_encrypted_name
from ._problems import sort_problems
from ._sops_rules import SopsConfigs, recipient_problems
from ._validate import encryption_problems, required_key_problems, validate_file

__all__ = ["main", "main_encrypted", "main_validate"]

# ---------------------------------------------------------------- entry points


def main_validate(argv: Sequence[str] | None = None) -> int:
    """`planet-profiles-validate [--require KEY]... FILE...`: schema problems of every file, and each
    `--require`d key its type has but it lacks (a repository's own rule); exit 1 if there is any."""
    parser = _parser("planet-profiles-validate", "Schema check of profile files; no keys needed.")
    parser.add_argument(
        "--require",
        action="append",
        default=[],
        metavar="KEY",
        help="a key every profile whose type has it must set (e.g. allowed_api_hosts); repeatable",
    )
    args = parser.parse_args(argv)
    problems: list[Problem] = []
    for file in args.files:
        found = validate_file(file)
        if not found and args.require:
            found = required_key_problems(read_profile(file).data, file=file, required=args.require)
        problems += found
    return _report(problems)


def main_encrypted(argv: Sequence[str] | None = None) -> int:
    """`planet-profiles-encrypted FILE...`: secrets only in `*.sops.json`, encrypted for the recipients of
    `.sops.yaml`; exit 1 on any problem."""
    files = _parse_args(
        "planet-profiles-encrypted", "Secrets only in *.sops.json, and there encrypted; no keys needed.", argv
    )
    problems: list[Problem] = []
    rules = SopsConfigs()
    for file in files:
        encrypted = is_encrypted_name(file)
        read = read_profile(file)
        doc, found = read.data, read.problems
        if doc is not None:
            found = sort_problems(found + encryption_problems(doc, file=file, encrypted=encrypted))
        problems += found
        if encrypted and not found:
            problems += recipient_problems(file, doc, rules)
    return _report(problems)


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m planet_profiles._hooks {validate,encrypted} FILE...`."""
    args = list(sys.argv[1:] if argv is None else argv)
    hooks = {"validate": main_validate, "encrypted": main_encrypted}
    if not args or args[0] not in hooks:
        print("usage: python -m planet_profiles._hooks {validate,encrypted} FILE...", file=sys.stderr)
        return 2
    return hooks[args[0]](args[1:])


def _parser(prog: str, description: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("files", nargs="*", metavar="FILE", help="auth_client.json / auth_client.sops.json")
    return parser


def _parse_args(prog: str, description: str, argv: Sequence[str] | None) -> list[str]:
    return list(_parser(prog, description).parse_args(argv).files)


def _report(problems: Sequence[Problem]) -> int:
    """One line per finding and no summary: pre-commit runs a hook on chunks of the files in parallel."""
    if problems:
        sys.stdout.write("\n".join(map(str, problems)) + "\n")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
