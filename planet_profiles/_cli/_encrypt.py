"""`encrypt`, `rekey` and `keygen`: put a profile's secrets under sops, re-wrap them for new recipients,
and make an age key.

`encrypt` works from memory (SECURITY TOK-08): the plaintext document goes to sops on stdin, the ciphertext
is checked in memory (every secret `ENC[…]`, every other key unchanged and clear, a well-formed `sops`
block), written atomically (0600), read back and compared, and decrypted again when a key is at hand. Only
then is a plaintext `auth_client.json` deleted. The target name never holds plaintext written by us; a
plaintext `auth_client.sops.json` is replaced in one atomic rename.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import click

from .._errors import ProfileError, SopsError, SopsNoKeyError
from .._names import ENCRYPTED_FILE, PLAIN_FILE, SECRET_KEYS
from ._app import CliError, cli
from ._common import find_files, read_raw


def _source_file(path: Path) -> Path:
    if path.is_dir():
        for name in (PLAIN_FILE, ENCRYPTED_FILE):
            if (path / name).is_file():
                return path / name
        raise ProfileError(f"no {PLAIN_FILE} or {ENCRYPTED_FILE} in this directory", file=str(path))
    if path.name not in (PLAIN_FILE, ENCRYPTED_FILE):
        raise ProfileError(
            f"expected a file named {PLAIN_FILE} or {ENCRYPTED_FILE}",
            file=str(path),
            hint="Profiles are directories holding one of those files",
        )
    return path


def _check_ciphertext(ciphertext: bytes, plain: Mapping[str, object], target: Path) -> None:
    """Refuse ciphertext that is not exactly `plain` with only its secrets encrypted."""
    from .._documents import parse_json
    from .._validate import validate_document

    doc, problems = parse_json(ciphertext, file=str(target))
    if doc is None or problems or not isinstance(doc, dict):
        raise SopsError("sops produced no JSON object; nothing was written", file=str(target))
    problems = validate_document(doc, file=str(target), encrypted=True)
    if problems:
        raise SopsError(
            f"the encrypted result is not valid ({problems[0]}); nothing was written", file=str(target)
        )
    changed = [k for k in plain if k not in SECRET_KEYS and doc.get(k) != plain[k]]
    if changed or set(doc) - {"sops"} != set(plain):
        raise SopsError(
            "the encrypted result does not hold the same clear-text keys; nothing was written",
            file=str(target),
            key=changed[0] if changed else None,
        )


@cli.command()
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option(
    "--age",
    "recipients",
    multiple=True,
    metavar="RECIPIENT",
    help="Encrypt for this age recipient (repeatable) instead of the .sops.yaml creation rule.",
)
def encrypt(path: Path, recipients: tuple[str, ...]) -> None:
    """Encrypt a profile's secrets (sops), then delete the plaintext.

    The result is auth_client.sops.json.
    PATH is a profile directory, its auth_client.json (holding secrets), or a not-yet-encrypted
    auth_client.sops.json. Only the secret keys (client_secret, client_privkey, client_privkey_password,
    password, api_key) are encrypted; reviewers can read every other key. Recipients come from the
    .sops.yaml found from the file's directory upwards, or from --age.
    """
    from .._atomic import atomic_write
    from .._errors import ConfigError
    from .._sops import default_sops
    from .._tokens import recipients_of
    from .._validate import validate_document

    source = _source_file(path)
    target = source.with_name(ENCRYPTED_FILE)
    plain = read_raw(source)
    if "sops" in plain:
        raise SopsError(
            "already encrypted",
            file=str(source),
            hint="To encrypt it for other recipients, edit .sops.yaml and run `planet-profiles rekey`",
        )
    if source != target and target.exists():
        raise ProfileError(
            f"{target.name} exists beside it; refusing to overwrite it",
            file=str(source),
            hint=f"Merge the two by hand (`sops edit {target}`), then delete {source.name}",
        )
    secrets = [k for k in SECRET_KEYS if k in plain]
    if source != target and not secrets:
        click.echo(f"{source}: holds no secret key; nothing to encrypt (it stays {PLAIN_FILE}).", err=True)
        return
    problems = validate_document(plain, file=str(source))
    if problems:
        raise ConfigError.from_problems(problems)

    sops = default_sops()
    ciphertext = sops.encrypt_to_bytes(plain, target, age_recipients=recipients)
    _check_ciphertext(ciphertext, plain, target)
    atomic_write(target, ciphertext)
    if target.read_bytes() != ciphertext:
        raise SopsError("the encrypted file did not read back as written", file=str(target))
    try:
        checked = sops.decrypt(target) == plain
        note = "decrypts back to the same content"
    except SopsNoKeyError:
        checked, note = True, "not decrypted back: no key for it here"
    if not checked:
        raise SopsError(f"decrypts to other content; {source.name} was kept", file=str(target))
    if source != target:
        source.unlink()
    age, pgp = recipients_of(target)
    click.echo(f"Encrypted {', '.join(secrets) or 'no secret key'} into {target} ({note}).")
    click.echo(f"Recipients: {', '.join(age + pgp)}")
    if source != target:
        click.echo(f"Deleted {source}.")


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("--no-rotate", is_flag=True, help="Only re-wrap the data key; do not rotate it.")
def rekey(paths: tuple[Path, ...], no_rotate: bool) -> None:
    """Re-encrypt for the recipients now in .sops.yaml, under a new data key.

    For each file: `sops updatekeys` (the data key is wrapped for exactly the recipients of its .sops.yaml
    creation rule), then `sops rotate` (every value re-encrypted under a new data key, so a removed
    member's copy of the old data key opens nothing written from now on). Progress goes to stderr, one
    line per file (N of M).

    PATHS are files or directories searched for auth_client.sops.json (default: the current directory).
    Run it after adding or removing a team member's key in .sops.yaml; you need a key that can decrypt.
    --no-rotate is enough when a member is only added.
    """
    from .._sops import default_sops

    files = find_files(paths or (Path("."),), lambda name: name == ENCRYPTED_FILE)
    if not files:
        click.echo(f"no {ENCRYPTED_FILE} found", err=True)
        return
    sops = default_sops()
    failures: list[tuple[Path, ProfileError]] = []
    for number, file in enumerate(files, 1):
        click.echo(f"rekeying {number} of {len(files)}: {file}", err=True)
        try:
            sops.updatekeys(file)
            if not no_rotate:
                sops.rotate(file)
        except ProfileError as exc:
            failures.append((file, exc))
    for file, error in failures:
        click.echo(f"{file}: {error}", err=True)
    done = len(files) - len(failures)
    click.echo(f"Rekeyed {done} of {len(files)} file(s)" + ("" if no_rotate else ", data keys rotated") + ".")
    if failures:
        raise CliError(f"{len(failures)} of {len(files)} file(s) could not be rekeyed (see above)")


@cli.command()
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Key file to create (default: where sops looks, e.g. ~/.config/sops/age/keys.txt).",
)
@click.option("-y", "show", is_flag=True, help="Create nothing: print the recipient(s) of the key file.")
def keygen(output: Path | None, show: bool) -> None:
    """Make an age key for sops, as `age-keygen -o` does; print its recipient (age1…).

    The key file is created with mode 0600 and never overwritten. sops finds it at the default path
    without any setting; elsewhere, set SOPS_AGE_KEY_FILE. Send the recipient to your team: it goes
    into the `.sops.yaml` of the profile repository.
    """
    from .._agekey import default_key_file, generate_key_file, recipients_of

    path = output or default_key_file()
    if show:
        for recipient in recipients_of(path):
            click.echo(recipient)
        return
    recipient = generate_key_file(path)
    click.echo(f"Created {path}", err=True)
    click.echo(recipient)
