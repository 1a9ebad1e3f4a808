"""`doctor`: walk a profile through every stage of the pipeline and say exactly what to fix.

file found → schema valid (no key needed) → sops key available & decrypts → profile loads (config, client,
private key) → auth server reachable & issuer matches (OIDC discovery, RFC 8414 §3.3) → token usable.
The first failing step ends the walk; its `fix:` line is the error's own hint (or the step's standard
remedy), and the command exits 1 with one `Error:` line naming the step (the ✗ line holds the detail).

Read-only: doctor writes nothing. A profile that gets tokens without a user (client credentials) is
proven by a real grant when no valid token is cached, and that token is dropped, not saved.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

import click

from .._errors import ProfileError
from .._terminal import inert
from ._app import CliError, cli, emit_json, json_option, mark, profile_argument
from ._common import REFRESHABLE, VALID, Target, human_duration, read_raw, read_token_state, resolve_target

if TYPE_CHECKING:
    from .._context import AuthContext


@dataclass
class Step:
    name: str
    ok: bool | None  # None: not applicable / skipped
    detail: str
    fix: str | None = None


class _NotApplicable(str):
    """A step's detail when the step does not apply to this profile (shown with the "skip" mark)."""


class _Failed(Exception):
    def __init__(self, detail: str, fix: str | None) -> None:
        super().__init__(detail)
        self.detail, self.fix = detail, fix


def _from_error(exc: ProfileError, default_fix: str) -> _Failed:
    where = ": ".join(part for part in (exc.file, exc.key) if part)
    return _Failed(f"{where}: {exc.message}" if where else exc.message, exc.hint or default_fix)


class _Walk:
    """The doctor's state while it walks; each `step_*` returns the detail line or raises `_Failed`."""

    def __init__(self, name: str | None) -> None:
        self.name = name
        self.target: Target | None = None
        self.ctx: AuthContext | None = None

    def step_found(self) -> str:
        try:
            self.target = resolve_target(self.name)
        except ProfileError as exc:
            raise _from_error(exc, "Create it with `planet-profiles new`") from None
        location = self.target.location
        if location is None:
            return f"{self.target.name}: {self.target.origin}"
        return f"{location.file} ({location.origin})"

    def step_schema(self) -> str:
        from .._names import SECRET_KEYS
        from .._validate import validate_document, validate_file

        assert self.target is not None
        location = self.target.location
        if location is None:
            return _NotApplicable("not a file: nothing to check")
        fix = f"Edit {location.file}; list every problem with `planet-profiles validate {location.file}`"
        try:
            doc = read_raw(location.file)
        except ProfileError as exc:
            raise _from_error(exc, fix) from None
        if location.encrypted:
            problems = validate_file(location.file)  # also: secrets really ENC[…], the `sops` block's shape
        else:
            problems = validate_document(doc, file=str(location.file))
        if problems:
            shown = "\n".join(str(p) for p in problems[:5])
            more = f"\n(and {len(problems) - 5} more)" if len(problems) > 5 else ""
            raise _Failed(shown + more, fix)
        plain = [k for k in SECRET_KEYS if k in doc and not location.encrypted]
        note = (
            f"; warning: plaintext {', '.join(plain)}: `planet-profiles encrypt {location.file}`"
            if plain
            else ""
        )
        return f"{doc.get('client_type')}{note}"

    def step_decrypt(self) -> str:
        from .._sops import default_sops

        assert self.target is not None
        location = self.target.location
        if location is None or not location.encrypted:
            return _NotApplicable("no encrypted file: nothing to decrypt")
        try:
            default_sops().decrypt(location.file)
        except ProfileError as exc:
            raise _from_error(exc, "Set SOPS_AGE_KEY_FILE to your age key file") from None
        return f"decrypted in memory with {default_sops().binary}"

    def step_load(self) -> str:
        from .._clients import OidcAuthClient
        from .._loader import open_profile

        assert self.target is not None
        try:
            self.ctx = open_profile(self.name)
            client = self.ctx.auth_client()
            if isinstance(client, OidcAuthClient):
                client.client_auth()  # parses a private key (and its password) now, not at first use
        except ProfileError as exc:
            raise _from_error(exc, "Fix the profile file named above") from None
        return type(client).__name__

    def step_server(self) -> str:
        from .._clients import OidcAuthClient

        assert self.ctx is not None
        client = self.ctx.auth_client()
        if not isinstance(client, OidcAuthClient):
            return _NotApplicable(f"`{client.client_type}` profiles talk to no OIDC server")
        try:
            meta = self.ctx.discovery()
        except ProfileError as exc:
            raise _from_error(exc, "Check `auth_server` in the profile and your network") from None
        return f"{meta.get('issuer')} (discovery OK, issuer matches)"

    def step_token(self) -> str:
        assert self.ctx is not None and self.target is not None
        manager = self.ctx.token_manager
        if manager is None:
            return _NotApplicable(f"`{self.ctx.auth_client().client_type}` profiles have no tokens")
        login = f"Log in: `planet-profiles login {self.target.name}`"
        state = read_token_state(self.ctx.token_file_path())
        client = self.ctx.auth_client()
        if client.unattended and state.state != VALID:
            try:
                token = client.grant()  # a real grant proves the credentials; the token is not kept
            except ProfileError as exc:
                raise _from_error(exc, "Check `client_id` and the secret or key of the profile") from None
            left = f", expires in {human_duration(token.expires_at - _now())}" if token.expires_at else ""
            return f"token endpoint issued a token{left} (not saved: doctor changes nothing)"
        if state.state in (VALID, REFRESHABLE):
            return state.describe()
        raise _Failed(state.describe(), login)


def _now() -> float:
    import time

    return time.time()


_STEPS = (
    ("profile found", "step_found"),
    ("schema valid", "step_schema"),
    ("sops key decrypts", "step_decrypt"),
    ("profile loads", "step_load"),
    ("auth server", "step_server"),
    ("token", "step_token"),
)


def diagnose(name: str | None) -> list[Step]:
    """Every step of the walk; the steps after the first failure are skipped (`ok=None`)."""
    walk = _Walk(name)
    steps: list[Step] = []
    failed = False
    for label, method in _STEPS:
        if failed:
            steps.append(Step(label, None, "skipped"))
            continue
        try:
            detail = getattr(walk, method)()
        except _Failed as exc:
            steps.append(Step(label, False, exc.detail, exc.fix))
            failed = True
            continue
        steps.append(Step(label, None if isinstance(detail, _NotApplicable) else True, str(detail)))
    return steps


@cli.command()
@profile_argument
@json_option
def doctor(name: str | None, as_json: bool) -> None:
    """Check a profile end to end; say how to fix the first problem.

    Steps: profile file found, schema valid, sops key available and decrypts, profile loads, auth server
    reachable with the expected issuer, token usable (client-credentials profiles fetch one, which is not
    saved: doctor writes nothing). Exits 1 when a step fails.
    """
    steps = diagnose(name)
    failed = next((s for s in steps if s.ok is False), None)
    if as_json:
        data: dict[str, object] = {"profile": name, "ok": failed is None, "steps": [asdict(s) for s in steps]}
        emit_json(data)
    else:
        width = max(len(s.name) for s in steps)
        for step in steps:
            lines = inert(step.detail).splitlines() or [""]  # details quote servers' answers
            click.echo(f"{mark(step.ok)} {step.name.ljust(width)}  {lines[0]}")
            for line in lines[1:]:
                click.echo(f"  {' ' * width}  {line}")
            if step.fix:
                click.echo(f"  {' ' * width}  " + click.style(f"fix: {step.fix}", bold=True))
    if failed is not None:  # the ✗ line above says what failed and how to fix it: not repeated here
        raise CliError(f"doctor: the `{failed.name}` check failed (see above)")
