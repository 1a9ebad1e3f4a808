"""The `planet-profiles` command group: global options, logging, colour, output helpers and one error policy.

Error policy (DESIGN.md "CLI and hooks", SECURITY.md BAD-01):

- a `ProfileError` is one line `Error: <message>` on stderr, exit 1 (the message names file, key and fix);
  a `ConfigError` with several problems prints each as `file: /pointer: message` first (a "did you mean"
  first of all), then `Error: FILE: N problems (listed above)`;
- an `OSError` on a file is `Error: FILE: reason`, exit 1;
- click's usage errors keep click's wording (usage, then one `Error:` line), exit 2;
- Ctrl-C is `Error: interrupted`, exit 130;
- anything else is `Error: internal error: <Type>: <message>`, exit 70 (EX_SOFTWARE), with the traceback
  only under `-v`.

No traceback is ever printed by default.

Heavy modules (pydantic, jsonschema, requests, copier) are imported inside the commands that need them, so
`planet-profiles --help` and `planet-profiles token NAME` stay fast.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import click
from click.shell_completion import CompletionItem

from .. import __version__
from .._errors import ConfigError, ProfileError
from .._terminal import inert

__all__ = [
    "EX_INTERRUPTED",
    "EX_SOFTWARE",
    "CliError",
    "cli",
    "emit_json",
    "json_option",
    "mark",
    "profile_argument",
]

EX_SOFTWARE = 70  # sysexits.h: internal software error
EX_INTERRUPTED = 130  # 128 + SIGINT, as shells report it

_LOGGER = "planet_profiles"

F = TypeVar("F", bound=Callable[..., Any])


class CliError(click.ClickException):
    """An error the CLI reports as one `Error: …` line; exit status `exit_code` (1)."""

    def __init__(self, message: str) -> None:
        super().__init__(inert(" ".join(message.split())))  # one inert line, whatever the message held

    def show(self, file: Any = None) -> None:
        click.echo(f"Error: {self.format_message()}", err=True)


class _InternalError(CliError):
    exit_code = EX_SOFTWARE


class _Interrupted(CliError):
    exit_code = EX_INTERRUPTED


@dataclass
class _State:
    verbose: bool = False


class _Group(click.Group):
    """The command group; `invoke` applies the error policy of the module docstring to every command."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort, BrokenPipeError):
            raise  # click reports these itself
        except ConfigError as exc:  # every problem, one per line, as `validate` prints them
            _debug_traceback(ctx)
            if len(exc.problems) < 2:
                raise CliError(str(exc)) from None
            for problem in exc.problems:
                click.echo(str(problem), err=True)
            where = exc.file or "the profile"
            raise CliError(f"{where}: {len(exc.problems)} problems (listed above)") from None
        except ProfileError as exc:
            _debug_traceback(ctx)
            raise CliError(str(exc)) from None
        except OSError as exc:  # a file or directory the user named: permissions, disk full, …
            _debug_traceback(ctx)
            where = f"{exc.filename}: " if exc.filename else ""
            raise CliError(f"{where}{exc.strerror or exc}") from None
        except KeyboardInterrupt:
            raise _Interrupted("interrupted") from None
        except Exception as exc:  # noqa: BLE001 - the last line of defence: no traceback by default
            _debug_traceback(ctx)
            detail = f"{type(exc).__name__}: {exc}"[:300]
            hint = "" if _verbose(ctx) else " (run with -v for the traceback)"
            raise _InternalError(f"internal error: {detail}{hint}") from None


def _verbose(ctx: click.Context) -> bool:
    state = ctx.find_object(_State)
    return bool(state and state.verbose)


def _debug_traceback(ctx: click.Context) -> None:
    """Under `-v`, the traceback of the exception being handled (code lines only, no values)."""
    if _verbose(ctx):
        traceback.print_exc(file=sys.stderr)


def _setup_logging(ctx: click.Context, verbose: bool) -> None:
    """Log `planet_profiles.*` to stderr: warnings, or everything with `-v` (the library never logs a
    secret, SECURITY TOK-09). Undone when the command ends, so in-process runners stay clean."""
    logger = logging.getLogger(_LOGGER)
    handler = logging.StreamHandler(sys.stderr)
    fmt = "%(asctime)s %(levelname)s %(name)s: %(message)s" if verbose else "warning: %(message)s"
    handler.setFormatter(logging.Formatter(fmt))
    previous = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG if verbose else logging.WARNING)

    def undo() -> None:
        logger.removeHandler(handler)
        logger.setLevel(previous)

    ctx.call_on_close(undo)


_EPILOG = """\b
Profiles are searched in ~/.planet/NAME/ then in each directory of
PL_AUTH_PROFILE_PATH. Without NAME, commands use the selected profile:
PL_AUTH_PROFILE, then the PL_AUTH_PROFILE key of ~/.planet.json, then
the built-in default (see `planet-profiles show`). Decrypting needs your
sops key: SOPS_AGE_KEY_FILE (or SOPS_AGE_KEY, or a GnuPG key).
NO_COLOR=1 turns colours off.

\b
Shell completion (bash, zsh, fish):
  eval "$(_PLANET_PROFILES_COMPLETE=bash_source planet-profiles)"   # ~/.bashrc
  eval "$(_PLANET_PROFILES_COMPLETE=zsh_source planet-profiles)"    # ~/.zshrc
  _PLANET_PROFILES_COMPLETE=fish_source planet-profiles | source   # config.fish
"""


@click.group(
    cls=_Group,
    invoke_without_command=True,
    epilog=_EPILOG,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(
    __version__, "-V", "--version", prog_name="planet-profiles", message="%(prog)s %(version)s"
)
@click.option(
    "-v", "--verbose", is_flag=True, help="Log every step (DEBUG) to stderr; secrets are never logged."
)
@click.pass_context
def cli(ctx: click.Context, verbose: bool) -> None:
    """Declarative, reviewable, sops-encrypted OAuth auth-client profiles.

    Scaffold a profile (`new`), check it without keys (`validate`), encrypt its secrets (`encrypt`),
    then use it: `login`, `token`, `status`, `doctor`.
    """
    ctx.obj = _State(verbose=verbose)
    if os.environ.get("NO_COLOR"):  # https://no-color.org: any non-empty value
        ctx.color = False
    _setup_logging(ctx, verbose)
    if ctx.invoked_subcommand is None:  # bare `planet-profiles`: the help, and success
        click.echo(ctx.get_help())


# ---------------------------------------------------------------- shared options and output


def _complete_profile(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    from .._locations import list_profiles

    try:
        names = [location.name for location in list_profiles()]
    except (ProfileError, OSError):
        return []
    return [CompletionItem(name) for name in names if name.startswith(incomplete)]


def profile_argument(function: F) -> F:
    """The optional profile `NAME` argument; without it the selected profile is used."""
    decorated: F = click.argument("name", required=False, metavar="[NAME]", shell_complete=_complete_profile)(
        function
    )
    return decorated


def json_option(function: F) -> F:
    decorated: F = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")(
        function
    )
    return decorated


def emit_json(data: object) -> None:
    click.echo(inert(json.dumps(data, indent=2, ensure_ascii=False)))  # json escapes C0, not C1 or bidi


def _unicode_ok() -> bool:
    encoding = getattr(sys.stdout, "encoding", None) or ""
    return encoding.lower().replace("-", "") in ("utf8", "utf16", "utf32")


def mark(ok: bool | None) -> str:
    """A step mark: ✓ / ✗ / – in colour, or `[ok]` / `[FAIL]` / `[skip]` when stdout is not UTF-8."""
    if _unicode_ok():
        text, colour = {True: ("✓", "green"), False: ("✗", "red"), None: ("-", "yellow")}[ok]
    else:
        text, colour = {True: ("[ok]", "green"), False: ("[FAIL]", "red"), None: ("[skip]", "yellow")}[ok]
    return click.style(text, fg=colour, bold=ok is False)
