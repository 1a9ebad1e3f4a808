"""Stage "store tokens": whose keys a `token.sops.json` is encrypted to — its owner's, and nobody else's.

A token file lives under the HOME of the account that logged in; nobody else needs to read it. So every
token, personal (auth code, device, resource owner) or a service's (client credentials), is encrypted to
the key of the user running the process, found in this order:

1. `PL_AUTH_TOKEN_RECIPIENTS`: age recipients (`age1…`) and/or PGP fingerprints, comma or space separated;
2. the age identities sops itself decrypts with (`SOPS_AGE_KEY`, `SOPS_AGE_KEY_FILE`, else sops' default
   key file), each turned into its recipient (`planet_profiles._agekey.identity_recipient`);
3. the PGP fingerprints of the profile's `sops` block for which GnuPG holds a *secret* key
   (`gpg --list-secret-keys`): keys of this user, whoever wrote them into the file.

Recipients are never taken from the profile file as such: its `sops` block is not covered by the sops MAC,
so anyone who can push to a team repository could append their own recipient to it. Without any own key,
`own_recipients` fails (`StorageError`) and says how to fix it; it never falls back to the profile's
recipients, nor to plaintext.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Sequence
from typing import NamedTuple

from ._agekey import is_age_recipient, own_age_recipients
from ._errors import StorageError

__all__ = ["TOKEN_RECIPIENTS_ENV", "TokenRecipients", "own_recipients"]

TOKEN_RECIPIENTS_ENV = "PL_AUTH_TOKEN_RECIPIENTS"  # noqa: S105 - a variable name, not a secret
_FINGERPRINT = re.compile(r"[0-9A-F]{40}|[0-9A-F]{64}")
_NO_KEY_HINT = (
    f"Make an age key with `planet-profiles keygen` (or set SOPS_AGE_KEY_FILE to yours), or set "
    f"{TOKEN_RECIPIENTS_ENV} to your own age recipient or PGP fingerprint; "
    "PL_AUTH_PLAINTEXT_TOKENS=1 keeps tokens in a 0600 token.json instead"
)


class TokenRecipients(NamedTuple):
    """The age recipients and PGP fingerprints a token file is encrypted to, and where they came from."""

    age: list[str]
    pgp: list[str]
    source: str


def own_recipients(profile_pgp: Sequence[str] = (), *, file: str | None = None) -> TokenRecipients:
    """The current user's own recipients (see the module docstring); `profile_pgp` are the PGP fingerprints
    of the profile's `sops` block, used only where GnuPG holds their secret key. `file` names the token file
    in errors."""
    configured = os.environ.get(TOKEN_RECIPIENTS_ENV, "")
    if configured.strip():
        return _parse_configured(configured, file=file)
    age, where = own_age_recipients()
    if age:
        return TokenRecipients(age, [], where)
    pgp = _own_secret_keys(profile_pgp)
    if pgp:
        return TokenRecipients([], pgp, "GnuPG secret keys")
    raise StorageError(
        "cannot encrypt tokens: no key of your own was found (no age identity in SOPS_AGE_KEY, "
        f"SOPS_AGE_KEY_FILE or the default key file, no {TOKEN_RECIPIENTS_ENV}, no GnuPG secret key of the "
        "profile); tokens are never encrypted to the profile's recipients",
        file=file,
        key=TOKEN_RECIPIENTS_ENV,
        hint=_NO_KEY_HINT,
    )


def _parse_configured(value: str, *, file: str | None) -> TokenRecipients:
    age, pgp = [], []
    for item in re.split(r"[\s,]+", value.strip()):
        if is_age_recipient(item):
            age.append(item)
        elif _FINGERPRINT.fullmatch(item.upper()):
            pgp.append(item.upper())
        else:
            shown = item if len(item) <= 80 and item.isprintable() else f"entry of {len(item)} characters"
            raise StorageError(
                f"{TOKEN_RECIPIENTS_ENV} holds {shown!r}, neither an age recipient (age1…) nor a PGP "
                "fingerprint (40 or 64 hex digits)",
                file=file,
                key=TOKEN_RECIPIENTS_ENV,
                hint="List your own recipients, separated by commas",
            )
    return TokenRecipients(age, pgp, TOKEN_RECIPIENTS_ENV)


def _own_secret_keys(candidates: Sequence[str]) -> list[str]:
    """The `candidates` (PGP fingerprints) for which GnuPG holds a secret key; none without gpg."""
    wanted = [fp.replace(" ", "").upper() for fp in candidates]
    gpg = shutil.which("gpg") if wanted else None
    if gpg is None:
        return []
    try:
        listing = subprocess.run(
            [gpg, "--batch", "--with-colons", "--list-secret-keys"],
            capture_output=True,
            text=True,
            timeout=15,
            check=False,
            stdin=subprocess.DEVNULL,
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return []
    held = {line.split(":")[9].upper() for line in listing.splitlines() if line.startswith("fpr:")}
    return [fp for fp in dict.fromkeys(wanted) if fp in held]
