"""`list`, `show`, `status`: what profiles exist, what one of them says, and the state of its token.

None of them decrypts anything or talks to a server: `client_type`, every non-secret key and the token
file's `_exp` / `scope` are clear text even in encrypted files. Secrets are never shown, only `**********`.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from .._errors import ConfigError, ProfileError
from .._names import REDACTED
from .._terminal import inert
from ._app import cli, emit_json, json_option, profile_argument
from ._common import Target, read_raw, read_token_state, resolve_target, token_file

if TYPE_CHECKING:
    from .._locations import ProfileLocation

log = logging.getLogger("planet_profiles.cli")


def _selected_profile() -> tuple[str, str] | None:
    """The name the selection picks without an argument and the source that set it (`PL_AUTH_PROFILE`,
    the built-in default), or None when that is not a plain profile."""
    from .._selection import explain_selection

    try:
        row = next(r for r in explain_selection() if r["selected"])
    except ProfileError:
        return None  # a broken ~/.planet.json breaks the commands that select, not `list`
    if row["value"] and row["source"].startswith(("PL_AUTH_PROFILE", "built")):
        return str(row["value"]), str(row["origin"])
    return None


def _check_selected(selected: tuple[str, str] | None, names: set[str]) -> str | None:
    """The selected name as listed (lower case), or None with a warning when it is invalid or not found:
    `list` still lists, but does not pass over a selection that every other command would refuse."""
    from .._locations import check_profile_name

    if selected is None:
        return None
    value, origin = selected
    try:
        name = check_profile_name(value, source=origin)
    except ProfileError as exc:
        click.echo(f"warning: the selected profile is invalid: {exc}", err=True)
        return None
    if name not in names:
        click.echo(
            f"warning: {origin} selects profile {name!r}, which does not exist: commands without a NAME fail",
            err=True,
        )
        return None
    return name


def _row(name: str, location: ProfileLocation | None, client_type: object) -> dict[str, Any]:
    state = read_token_state(token_file(name, location))
    return {
        "name": name,
        "client_type": client_type,
        "encrypted": location.encrypted if location else False,
        "token": state.state,
        "token_file": str(state.path) if state.path else None,
        "origin": location.origin if location else "built-in",
        "directory": str(location.root) if location else None,
        "file": str(location.file) if location else None,
    }


def _builtin_rows(taken: set[str]) -> list[dict[str, Any]]:
    from .._builtins import builtin_config, builtin_names

    try:
        names = [n for n in builtin_names() if n not in taken]
        return [_row(n, None, (builtin_config(n) or {}).get("client_type")) for n in names]
    except ProfileError as exc:
        log.warning("built-in profiles are not listed: %s", exc)
        return []


@cli.command("list")
@json_option
def list_command(as_json: bool) -> None:
    """List the profiles: type, origin, encrypted?, token state.

    Profiles are searched in ~/.planet, then PL_AUTH_PROFILE_PATH; built-in ones are listed too.
    Shows the client type, where the profile was found, whether it is encrypted, and its token state
    (none, valid, expired, refreshable). `*` marks the profile used when none is named, `!` a profile
    that fails its schema check (a warning names its first problem). Needs no key.
    """
    from .._documents import read_profile
    from .._locations import list_profiles
    from .._validate import validate_read

    rows = []
    for location in list_profiles():
        read = read_profile(location.file)  # once: its problems and its client type come from the same bytes
        problems = validate_read(read)
        if problems:  # in the order `show` prints them: a "did you mean" first
            problems = list(ConfigError.from_problems(problems).problems)
        usable = not read.problems and isinstance(read.data, dict)  # as `read_raw` would have returned it
        client_type = read.data.get("client_type") if usable else "(invalid file)"
        row = _row(location.name, location, client_type)
        row["problems"] = [str(problem) for problem in problems]
        rows.append(row)
    rows += _builtin_rows({r["name"] for r in rows})
    selected = _check_selected(_selected_profile(), {r["name"] for r in rows})
    for row in rows:
        row["selected"] = row["name"] == selected
        row.setdefault("problems", [])
        if row["problems"]:
            more = len(row["problems"]) - 1
            also = f" (and {more} more: `planet-profiles show {row['name']}` lists them)" if more else ""
            click.echo(f"warning: profile {row['name']} is invalid: {row['problems'][0]}{also}", err=True)
    if as_json:
        emit_json(rows)
        return
    table = [("", "NAME", "TYPE", "ENCRYPTED", "TOKEN", "ORIGIN")]
    for r in rows:
        origin = f"{r['directory']} ({r['origin']})" if r["directory"] else r["origin"]
        enc = "yes" if r["encrypted"] else "no"
        mark = "!" if r["problems"] else "*" if r["selected"] else ""
        name = f"{r['name']} (invalid)" if r["problems"] else r["name"]
        table.append((mark, name, str(r["client_type"]), enc, r["token"], origin))
    widths = [max(len(line[i]) for line in table) for i in range(len(table[0]))]
    for line in table:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip())


# ---------------------------------------------------------------- show


def _config_rows(target: Target) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """`key -> {value, origin, secret}` for the effective config, and facts about the file."""
    from .._config import parse_config
    from .._names import SECRET_KEYS

    if target.location is None:
        return _adhoc_rows(target), {}
    file = target.location.file
    doc = read_raw(file)
    meta = doc.pop("sops", None)
    # Secrets are replaced before parsing: their values never reach the model, let alone the output.
    parsed = parse_config(
        {k: (REDACTED if k in SECRET_KEYS and isinstance(v, str) else v) for k, v in doc.items()},
        file=str(file),
    )
    where = str(file)
    rows = {}
    for key, value in parsed.to_dict().items():
        secret = key in SECRET_KEYS
        note = (" (encrypted)" if meta is not None else " (PLAINTEXT: encrypt it)") if secret else ""
        rows[key] = {
            "value": REDACTED + note if secret else value,
            "origin": where if key in doc else "default",
            "secret": secret,
        }
    facts: dict[str, Any] = {"encrypted": meta is not None}
    if isinstance(meta, dict):
        facts["recipients"] = [
            str(e.get("recipient") or e.get("fp"))
            for group in ("age", "pgp")
            for e in meta.get(group) or []
            if isinstance(e, dict)
        ]
    return rows, facts


def _adhoc_rows(target: Target) -> dict[str, dict[str, Any]]:
    """Rows for a built-in profile or ad-hoc credentials (loaded without files: nothing to decrypt)."""
    from .._loader import open_profile
    from .._selection import ENV_CLIENT_ID, ENV_CLIENT_SECRET

    source = target.source
    ctx = open_profile(source.profile if source.kind == "profile" else None, save_token_file=False)
    from_source = {"client_id": source.origin, "api_key": source.origin}
    from_source["client_secret"] = ENV_CLIENT_SECRET if source.origin == ENV_CLIENT_ID else source.origin
    base = (
        f"built-in profile {target.name}"
        if source.kind == "profile"
        else f"ad-hoc credentials ({source.origin})"
    )
    config = ctx.auth_client().config
    rows = {}
    for key, value in config.to_dict().items():
        secret = key in config.secret_keys
        origin = from_source.get(key, base) if source.kind != "profile" else base
        rows[key] = {"value": REDACTED if secret else value, "origin": origin, "secret": secret}
    return rows


def _text(value: object) -> str:
    return ", ".join(map(str, value)) if isinstance(value, list) else str(value)


@cli.command()
@profile_argument
@json_option
def show(name: str | None, as_json: bool) -> None:
    """Show the effective config and where each value comes from.

    Secrets are redacted.

    Origins are the profile file, `default` (the schema's default), an environment variable or
    ~/.planet.json (ad-hoc credentials), or a built-in profile. Also shows why this profile was selected
    (every source in precedence order) and its token state. Needs no key.
    """
    from .._selection import explain_selection

    target = resolve_target(name)
    rows, facts = _config_rows(target)
    state = read_token_state(target.token_file())
    selection = explain_selection(name)
    if as_json:
        emit_json(
            {
                "profile": target.name,
                "file": str(target.location.file) if target.location else None,
                "origin": target.origin,
                "selected_by": target.source.origin,
                **facts,
                "config": rows,
                "token": state.to_json(),
                "selection": selection,
            }
        )
        return
    click.echo(f"profile      {target.name}")
    if target.location is not None:
        enc = "encrypted" if facts["encrypted"] else "plaintext"
        click.echo(f"file         {target.location.file} ({enc})")
        if facts.get("recipients"):
            click.echo(f"recipients   {', '.join(facts['recipients'])}")
    click.echo(f"found in     {target.origin}")
    click.echo(f"selected by  {target.source.origin}")
    click.echo(f"token        {state.describe()}" + (f" [{state.path}]" if state.path else ""))
    click.echo("\nconfig (value, then where it comes from):")
    width = max(len(k) for k in rows)
    value_width = min(48, max(len(_text(r["value"])) for r in rows.values()))
    for key, row in rows.items():
        origin = row["origin"]
        if target.location is not None and origin == str(target.location.file):
            origin = target.location.file.name  # the file named above
        click.echo(f"  {key.ljust(width)}  {_text(row['value']).ljust(value_width)}  {origin}")
    click.echo("\nselection (highest precedence first):")
    for row in selection:
        mark = "<- selected" if row["selected"] else ("set" if row["set"] else "-")
        value = f" = {row['value']}" if row["value"] else ""
        click.echo(f"  {row['rank']}. {row['source']}{value}  {mark}")


# ---------------------------------------------------------------- status


@cli.command()
@profile_argument
@json_option
def status(name: str | None, as_json: bool) -> None:
    """Show the token state, expiry and scopes.

    The state is valid, expired, refreshable or none.

    Reads the token file without decrypting it and without network calls (use `doctor` to check more).
    """
    target = resolve_target(name)
    state = read_token_state(target.token_file())
    client_type = target.client_type()
    requested = None
    if target.location is not None:
        requested = read_raw(target.location.file).get("scopes")
    if as_json:
        emit_json(
            {
                "profile": target.name,
                "client_type": client_type,
                "requested_scopes": requested,
                **state.to_json(),
            }
        )
        return
    click.echo(f"profile   {target.name} ({client_type})")
    click.echo(f"token     {state.describe()}")
    if state.expires_at is not None:
        at = datetime.datetime.fromtimestamp(state.expires_at).astimezone()
        click.echo(f"expiry    {at:%Y-%m-%d %H:%M:%S %Z}")
    if state.state not in ("none", "unreadable"):
        granted = inert(" ".join(state.scopes), newlines=False) if state.scopes else "(none granted)"
        click.echo(f"scopes    {granted}")  # the server's words
        click.echo(f"refresh   {'refresh token held' if state.refresh_token else 'no refresh token'}")
    if requested and isinstance(requested, Iterable):  # as stored (`show` reads the file unchecked)
        click.echo(f"requests  {' '.join(map(str, requested))}")
    if state.path is not None:
        click.echo(f"file      {Path(state.path)}")
