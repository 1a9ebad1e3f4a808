"""`validate`, `schema`, `new`, `templates`: commands on files that need no key and no selected profile.

`validate` is a thin loop over `planet_profiles.validate_file` (the pre-commit hook's check), plus, for
encrypted files, the recipients check of the `planet-profiles-encrypted` hook (`_sops_rules`), printing
each problem as `file: pointer: message`.
"""

from __future__ import annotations

from pathlib import Path

import click

from ._app import CliError, cli, emit_json, json_option
from ._common import find_files


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@json_option
def validate(paths: tuple[Path, ...], as_json: bool) -> None:
    """Check profile files against the schema; no key needed.

    PATHS are files or directories (default: the current directory), searched for auth_client.json and
    auth_client.sops.json as the pre-commit hooks select them; git-ignored files, build output (build/,
    dist/, site/), virtualenvs and tool directories are skipped. Encrypted files are checked too: secrets
    must be sops ENC[…] values, every other key clear text, and the recipients must be those the
    .sops.yaml creation rule for the file names (else: `rekey`). Prints one `file: /pointer: message` line
    per problem and exits 1 if there is any, or if no profile file was found.
    """
    from .._documents import read_profile
    from .._names import is_encrypted_name, is_profile_file
    from .._sops_rules import SopsConfigs, recipient_problems
    from .._validate import validate_file

    searched = paths or (Path("."),)
    files = find_files(searched, is_profile_file)
    rules = SopsConfigs()
    problems = []
    for file in files:
        found = validate_file(file)
        if not found and is_encrypted_name(file):
            found = recipient_problems(str(file), read_profile(file).data, rules)
        problems += found
    if as_json:
        emit_json(
            {
                "ok": bool(files) and not problems,
                "files": [str(f) for f in files],
                "problems": [{"file": p.file, "pointer": p.pointer, "message": p.message} for p in problems],
            }
        )
    else:
        for problem in problems:
            click.echo(str(problem))
    if problems:
        bad = len({p.file for p in problems})
        raise CliError(f"{len(problems)} problem(s) in {bad} of {len(files)} file(s)")
    if not files:  # a wrong path must not pass in CI
        where = ", ".join(str(p) for p in searched)
        raise CliError(f"no auth_client.json or auth_client.sops.json found in {where} (nothing was checked)")
    if not as_json:
        click.echo(f"{len(files)} file(s) OK", err=True)


@cli.command()
@click.option("--check", is_flag=True, help="Write nothing; exit 1 when a file differs from the models.")
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))
def schema(check: bool, directory: Path | None) -> None:
    """Write the JSON Schema files into DIRECTORY (or --check them).

    They are generated from the config models: one per client type and an index. Writing needs a
    DIRECTORY (e.g. `planet-profiles schema ./schema` for an editor or a CI of your own); the installed
    package's files are never rewritten. `--check` without DIRECTORY checks the installed package's files.
    """
    from .. import _schema

    if directory is None and not check:
        raise click.UsageError(
            "give the DIRECTORY to write the schema files into, e.g. `planet-profiles schema ./schema` "
            "(the installed package's own schema files are not rewritten; `--check` checks them)"
        )
    where = directory or _schema.schema_dir()
    if check:
        drift = _schema.schema_drift(where)
        for name in drift:
            click.echo(f"{where / name}: out of date")
        if drift:
            fix = f"planet-profiles schema {where}" if directory else "make schema"
            raise CliError(
                f"{len(drift)} schema file(s) in {where} differ from the models; regenerate them with `{fix}`"
            )
        click.echo(f"{where}: schema files up to date")
        return
    assert directory is not None
    changed = _schema.write_schemas(directory)
    for path in changed:
        click.echo(f"wrote {path}")
    if not changed:
        click.echo(f"{directory}: schema files up to date")


def _answers(pairs: tuple[str, ...]) -> dict[str, str]:
    answers = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{pair!r} is not KEY=VALUE", param_hint="'--data'")
        answers[key] = value
    return answers


@cli.command()
@click.argument("destination", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "-d", "--data", multiple=True, metavar="KEY=VALUE", help="Answer a template question (repeatable)."
)
@click.option("--defaults", is_flag=True, help="Take the default of every question not answered with --data.")
@click.option(
    "--repo", is_flag=True, help="Scaffold a team GitOps profile repo (.sops.yaml, hooks, CI) instead."
)
def new(destination: Path | None, data: tuple[str, ...], defaults: bool, repo: bool) -> None:
    """Scaffold a profile (or with --repo a team profile repository) from the copier templates.

    DESTINATION defaults to ~/.planet.

    The template asks for the profile name, client type, auth server and client id; answer on the command
    line with --data KEY=VALUE and skip the rest with --defaults. Check the result with `validate` and put
    secrets in with `encrypt`. The templates come from `planet-profiles templates --git`, so
    `copier update --trust` can change the result later.
    """
    from .._atomic import ensure_private_dir
    from .._locations import user_profiles_dir
    from .._templates import home_relative, versioned_copy

    template = "profile-repo" if repo else "profile"
    answers = {**_answers(data), "template": template}
    source = home_relative(versioned_copy())  # a git repository: `copier update` works on the result
    if destination is None:
        if repo:
            raise click.UsageError("--repo needs a DESTINATION directory")
        destination = ensure_private_dir(user_profiles_dir())  # 0700 when made here, as the loader makes it
    import copier  # heavy: only here
    from copier.errors import CopierError, UserMessageError

    try:  # our own template: trusted (its Jinja extension encrypts secrets in memory)
        worker = copier.run_copy(source, destination, data=answers, defaults=defaults, unsafe=True)
    except UserMessageError as exc:  # the template's own message names the file and the fix
        raise CliError(str(exc)) from None
    except CopierError as exc:
        raise CliError(f"the {template} template failed ({type(exc).__name__}): {exc}") from None
    except ValueError as exc:  # copier's way to refuse a --data answer (a validator, a choice)
        from .._copier_ext import answer_error

        raise CliError(answer_error(exc)) from None
    name = worker.answers.combined.get("profile_name")
    click.echo(f"Created {destination / str(name) if name and not repo else destination}")


@cli.command()
@click.argument("name", required=False, type=click.Choice(["profile", "profile-repo"]))
@click.option(
    "--git",
    "versioned",
    is_flag=True,
    help="Print a git repository of the templates instead, with a tag per installed version: "
    "copier can update projects made from it.",
)
def templates(name: str | None, versioned: bool) -> None:
    """Print the path of the installed copier templates, for `copier copy` and `copier update`.

    Without NAME: the directory whose copier.yml asks which template to render (--data
    template=profile|profile-repo); with NAME: that template alone.

    \b
      copier copy --trust "$(planet-profiles templates profile)" ~/.planet
      copier copy --trust "$(planet-profiles templates --git)" profiles --data template=profile
      planet-profiles templates --git && copier update --trust -a NAME/.copier-answers.yml profiles

    `planet-profiles new` uses the --git repository.
    """
    from .. import _templates

    if versioned:
        if name:
            raise click.UsageError(
                "--git prints the repository root; choose the template with --data template=…"
            )
        click.echo(_templates.home_relative(_templates.versioned_copy()))
        return
    click.echo(str(_templates.template_dir(name) if name else _templates.templates_root()))
