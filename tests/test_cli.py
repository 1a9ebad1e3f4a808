"""The `planet-profiles` CLI without a server: help, the error policy, list / show / status, selection.

Most tests run the command group in process with click's `CliRunner`; the `sh` tests run the installed
console script in a real subprocess to prove exit codes and that no traceback ever reaches the user.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from planet_profiles._cli import cli
from tests.fixtures_keys import AgeKey, make_encrypted_profile

SCRIPT = Path(sys.executable).parent / "planet-profiles"
SECRET = "s3cr3t-value-do-not-print"


def run(*args: str, env: dict[str, str] | None = None, color: bool = False) -> Result:
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False, color=color)


def sh(
    *args: str, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """The installed console script, in a real process (environment: the hermetic one of the test)."""
    return subprocess.run(
        [str(SCRIPT), *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=timeout,
        check=False,
    )


def assert_one_error(stderr: str, stdout: str, code: int, expected: int = 1) -> str:
    """One `Error:` line (the last on stderr), the exit code, and no traceback anywhere."""
    assert code == expected, (code, stdout, stderr)
    errors = [line for line in stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, stderr
    assert stderr.rstrip("\n").splitlines()[-1] == errors[0]
    assert "Traceback" not in stderr + stdout
    return errors[0]


def write_profile(
    root: Path, name: str, config: dict[str, Any] | str, *, file: str = "auth_client.json"
) -> Path:
    directory = root / name
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / file
    path.write_text(config if isinstance(config, str) else json.dumps(config))
    path.chmod(0o600)
    return path


def cc(auth_server: str = "https://login.example.com", **extra: Any) -> dict[str, Any]:
    return {
        "client_type": "oidc_client_credentials_secret",
        "auth_server": auth_server,
        "client_id": "svc",
        "client_secret": SECRET,
        "scopes": ["api.read"],
        **extra,
    }


@pytest.fixture
def planet(hermetic_env: Path) -> Path:
    return hermetic_env / ".planet"


@pytest.fixture
def team(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A team checkout's `profiles/` on PL_AUTH_PROFILE_PATH."""
    profiles = tmp_path / "team" / "profiles"
    profiles.mkdir(parents=True)
    monkeypatch.setenv("PL_AUTH_PROFILE_PATH", str(profiles))
    return profiles


# ---------------------------------------------------------------- help, version, completion


def test_every_command_has_help() -> None:
    assert set(cli.commands) == {
        "new", "validate", "encrypt", "list", "show", "login", "logout",
        "token", "status", "doctor", "rekey", "schema", "templates", "keygen",
    }  # fmt: skip
    for name in cli.commands:
        result = run(name, "--help")
        assert result.exit_code == 0, name
        assert result.stdout.startswith(f"Usage: cli {name}") or "Usage:" in result.stdout, name
    top = run("--help")
    assert top.exit_code == 0 and "_PLANET_PROFILES_COMPLETE=bash_source planet-profiles" in top.stdout


def test_version_and_help_in_a_real_process() -> None:
    version = sh("--version")
    assert version.returncode == 0 and version.stdout.strip() == "planet-profiles 0.1.0"
    helped = sh("--help")
    assert helped.returncode == 0 and "Commands:" in helped.stdout and not helped.stderr


def test_shell_completion_script_and_profile_names(planet: Path) -> None:
    write_profile(planet, "alpha", {"client_type": "none"})
    write_profile(planet, "beta", {"client_type": "none"})
    script = sh(env={"_PLANET_PROFILES_COMPLETE": "bash_source"})
    assert script.returncode == 0 and "_planet_profiles_completion" in script.stdout
    words = sh(
        env={
            "_PLANET_PROFILES_COMPLETE": "bash_complete",
            "COMP_WORDS": "planet-profiles show a",
            "COMP_CWORD": "2",
        }
    )
    assert words.returncode == 0 and "alpha" in words.stdout and "beta" not in words.stdout


def test_help_does_not_import_heavy_libraries(planet: Path) -> None:
    """`--help` and `token NAME` with a cached token load no HTTP, schema or model library."""
    write_profile(planet, "svc", cc())
    now = int(time.time())
    token = {
        "access_token": "tok-123",
        "token_type": "Bearer",
        "expires_in": 600,
        "_iat": now,
        "_exp": now + 600,
    }
    (planet / "svc" / "token.json").write_text(json.dumps(token))
    (planet / "svc" / "token.json").chmod(0o600)
    for args in (["--help"], ["token", "svc"]):
        code = (
            "import sys; from planet_profiles._cli import main\n"
            f"try:\n    main({args!r})\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
            "heavy = {'requests', 'httpx', 'pydantic', 'jsonschema', 'copier', 'cryptography', 'urllib3'}\n"
            "print(sorted(heavy & set(sys.modules)), file=sys.stderr)"
        )
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        assert out.stderr.strip().splitlines()[-1] == "[]", (args, out.stderr)
        if args[0] == "token":
            assert out.stdout == "tok-123\n"


# ---------------------------------------------------------------- the error policy


def test_bad_inputs_give_one_error_line(planet: Path, team: Path) -> None:
    write_profile(planet, "badjson", '{"client_type": "none",')
    write_profile(planet, "badschema", cc(scopes="api.read"))
    cases = {
        ("show", "nope"): "/.planet/nope: profile `nope` not found (nor in ",
        ("token", "nope"): "/.planet/nope: profile `nope` not found (nor in ",
        ("show", "a/b"): "Error: profile name: 'a/b' is invalid. Use letters",
        ("login", "../etc"): "Error: profile name: '../etc' is invalid",
        ("token", "badjson"): "invalid JSON at line 1",
        ("login", "badschema"): "scopes",
        ("show", "badschema"): "scopes",
    }
    for args, expected in cases.items():
        result = run(*args)
        line = assert_one_error(result.stderr, result.stdout, result.exit_code)
        assert expected in line, (args, line)
        assert SECRET not in result.output


def test_errors_name_the_profile_in_plain_words(planet: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 14 point 11: no `argument:` jargon before the message, and hints name the profile instead of
    printing a literal `NAME`."""
    result = run("show", "nope")
    line = assert_one_error(result.stderr, result.stdout, result.exit_code)
    assert line.startswith(f"Error: {planet / 'nope'}: profile `nope` not found.") and "argument" not in line
    assert "`planet-profiles new -d profile_name=nope`" in line
    monkeypatch.setenv("PL_AUTH_PROFILE", "nope")  # a name from the environment: say which variable
    result = run("status")
    line = assert_one_error(result.stderr, result.stdout, result.exit_code)
    assert line.startswith(f"Error: {planet / 'nope'}: PL_AUTH_PROFILE: profile `nope` not found.")
    device = {"client_type": "oidc_device_code", "client_id": "x", "auth_server": "https://login.example.com"}
    write_profile(planet, "dev", device)
    result = run("token", "dev")
    line = assert_one_error(result.stderr, result.stdout, result.exit_code)
    assert "Run `planet-profiles login dev`" in line and "NAME" not in line


def test_usage_errors_exit_2_without_traceback() -> None:
    for args in (["show", "--bogus"], ["no-such-command"], ["new", "--data", "novalue"]):
        result = sh(*args)
        assert_one_error(result.stderr, result.stdout, result.returncode, expected=2)


@pytest.mark.integration
def test_errors_in_a_real_process(planet: Path, age_key: AgeKey) -> None:
    make_encrypted_profile(planet / "enc", cc(), [age_key.recipient])  # SOPS_AGE_KEY_FILE is not set
    write_profile(planet, "down", cc("http://127.0.0.1:9"))
    for args, expected in (
        (["token", "enc"], "SOPS_AGE_KEY_FILE"),
        (["token", "down"], "127.0.0.1:9"),
        (["status", "x/y"], "Error: profile name: 'x/y' is invalid"),
    ):
        result = sh(*args)
        line = assert_one_error(result.stderr, result.stdout, result.returncode)
        assert expected in line and SECRET not in result.stdout + result.stderr


def test_internal_error_exit_70_traceback_only_verbose(monkeypatch: pytest.MonkeyPatch) -> None:
    from planet_profiles._cli import _profiles

    def boom() -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(_profiles, "_selected_profile", boom)
    quiet = run("list")
    line = assert_one_error(quiet.stderr, quiet.stdout, quiet.exit_code, expected=70)
    assert line.startswith("Error: internal error: RuntimeError: boom")
    loud = run("-v", "list")
    assert loud.exit_code == 70 and "Traceback" in loud.stderr


def test_os_errors_are_one_line_exit_1(monkeypatch: pytest.MonkeyPatch) -> None:
    from planet_profiles._cli import _profiles

    def denied() -> None:
        raise PermissionError(13, "Permission denied", "/srv/profiles")

    monkeypatch.setattr(_profiles, "_selected_profile", denied)
    result = run("list")
    line = assert_one_error(result.stderr, result.stdout, result.exit_code)
    assert line == "Error: /srv/profiles: Permission denied"


def test_ctrl_c_is_exit_130(monkeypatch: pytest.MonkeyPatch) -> None:
    from planet_profiles._cli import _profiles

    def interrupted() -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(_profiles, "_selected_profile", interrupted)
    result = run("list")
    assert (
        assert_one_error(result.stderr, result.stdout, result.exit_code, expected=130) == "Error: interrupted"
    )


@pytest.mark.parametrize("selected", ["nope", "../evil", "broken"])
def test_a_broken_selected_profile_breaks_only_the_commands_that_use_it(
    selected: str, planet: Path, team: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_profile(planet, "broken", "{not json")
    write_profile(team, "ok", {"client_type": "none"})
    monkeypatch.setenv("PL_AUTH_PROFILE", selected)
    for args in (["--help"], ["list"], ["list", "--json"], ["validate", str(team)], ["schema", "--check"]):
        result = run(*args)
        assert result.exit_code == 0, (args, result.output)
    for args in (["status"], ["show"], ["token"], ["doctor"]):
        result = run(*args)
        assert result.exit_code == 1, (args, result.output)
        assert "Error:" in result.stderr and "Traceback" not in result.output
    new = run("new", "--help")
    assert new.exit_code == 0


def test_list_survives_a_broken_user_config(planet: Path, hermetic_env: Path) -> None:
    write_profile(planet, "a", {"client_type": "none"})
    (hermetic_env / ".planet.json").write_text("{broken")
    result = run("list")
    assert result.exit_code == 0 and "a" in result.stdout
    assert_one_error(run("status").stderr, "", run("status").exit_code)


# ---------------------------------------------------------------- list, show, status


@pytest.mark.integration
def test_list_shows_origins_types_encryption_and_selection(
    planet: Path, team: Path, age_key: AgeKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_profile(planet, "mine", {"client_type": "none"})
    write_profile(team, "mine", cc())  # shadowed by ~/.planet/mine
    make_encrypted_profile(team / "svc", cc(), [age_key.recipient])
    monkeypatch.setenv("PL_AUTH_PROFILE", "svc")
    rows = {r["name"]: r for r in json.loads(run("list", "--json").stdout)}
    assert rows["mine"]["origin"] == "~/.planet" and rows["mine"]["client_type"] == "none"
    assert rows["svc"]["origin"] == "PL_AUTH_PROFILE_PATH" and rows["svc"]["directory"] == str(team)
    assert rows["svc"]["encrypted"] is True and rows["svc"]["selected"] is True
    assert rows["svc"]["token"] == "none" and rows["none"]["origin"] == "built-in"
    text = run("list").stdout
    assert str(team) in text and "PL_AUTH_PROFILE_PATH" in text and "~/.planet" in text
    assert any(line.startswith("*") and "svc" in line for line in text.splitlines())


@pytest.mark.parametrize(
    ("selected", "warning"),
    [
        ("a/b", "warning: the selected profile is invalid: PL_AUTH_PROFILE: invalid profile name 'a/b'"),
        ("nope", "warning: PL_AUTH_PROFILE selects profile 'nope', which does not exist"),
    ],
)
def test_list_warns_about_a_selected_profile_it_cannot_mark(
    selected: str, warning: str, planet: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 14 point 10: `PL_AUTH_PROFILE=a/b planet-profiles list` listed without a word."""
    write_profile(planet, "a", {"client_type": "none"})
    monkeypatch.setenv("PL_AUTH_PROFILE", selected)
    result = run("list")
    assert result.exit_code == 0 and result.stderr.startswith(warning), result.output
    assert not any(line.startswith("*") for line in result.stdout.splitlines())
    monkeypatch.setenv("PL_AUTH_PROFILE", "A")  # names are looked up in lower case, as the loader does
    result = run("list")
    assert result.stderr == "" and any(line.split()[:2] == ["*", "a"] for line in result.stdout.splitlines())


def test_a_missing_profile_path_entry_is_warned_about_once(
    tmp_path: Path, team: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 14 point 10: a `PL_AUTH_PROFILE_PATH` entry that does not exist was ignored silently."""
    missing = tmp_path / "chekout" / "profiles"
    monkeypatch.setenv("PL_AUTH_PROFILE_PATH", os.pathsep.join([str(team), str(missing)]))
    write_profile(team, "ok", {"client_type": "none"})
    first = run("list")
    assert first.exit_code == 0 and "ok" in first.stdout
    warned = f"warning: PL_AUTH_PROFILE_PATH entry {missing} is not a directory: no profile is found there"
    assert first.stderr.splitlines() == [warned]
    assert run("list").stderr == ""  # once a process
    assert str(team) not in first.stderr


def test_list_marks_schema_invalid_profiles(planet: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 14 point 10: a profile that fails its schema was listed as a normal row."""
    write_profile(planet, "bad", {"client_type": "oidc_client_credentials_secret", "clientid": "x"})
    write_profile(planet, "good", {"client_type": "none"})
    monkeypatch.setenv("PL_AUTH_PROFILE", "bad")
    result = run("list")
    assert result.exit_code == 0, result.output
    rows = {line.split()[1]: line for line in result.stdout.splitlines()[1:] if line.startswith("!")}
    assert list(rows) == ["bad"] and "(invalid)" in rows["bad"]
    assert "good" in result.stdout  # listed, unmarked (the `!` rows are `bad` only)
    file = planet / "bad" / "auth_client.json"
    assert result.stderr.splitlines()[0] == (
        f"warning: profile bad is invalid: {file}: /clientid: unknown key `clientid` (did you mean "
        "`client_id`?) (and 3 more: `planet-profiles show bad` lists them)"
    )
    data = {row["name"]: row for row in json.loads(run("list", "--json").stdout)}
    assert data["good"]["problems"] == [] and len(data["bad"]["problems"]) == 4
    assert data["bad"]["problems"][0].endswith("(did you mean `client_id`?)")


def test_list_reads_each_profile_file_once(planet: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Its problems and its client type come from one read of the file (it read every profile twice)."""
    from planet_profiles import _documents

    write_profile(planet, "bad", {"client_type": "oidc_client_credentials_secret", "clientid": "x"})
    write_profile(planet, "good", {"client_type": "none"})
    (planet / "broken").mkdir(mode=0o700)
    (planet / "broken" / "auth_client.json").write_text('{"client_type": "none", "client_type": "none"}')
    (planet / "broken" / "auth_client.json").chmod(0o600)
    reads: list[str] = []
    real = _documents.read_profile

    def counting(path: str | os.PathLike[str]) -> _documents.Document:
        reads.append(os.path.basename(os.path.dirname(os.fspath(path))))
        return real(path)

    monkeypatch.setattr(_documents, "read_profile", counting)
    data = {row["name"]: row for row in json.loads(run("list", "--json").stdout)}
    assert sorted(reads) == ["bad", "broken", "good"]
    assert data["good"]["client_type"] == "none"
    assert data["bad"]["client_type"] == "oidc_client_credentials_secret"
    assert data["broken"]["client_type"] == "(invalid file)"  # a duplicate key: the loader refuses it too
    file = planet / "broken" / "auth_client.json"
    assert data["broken"]["problems"] == [f"{file}: /client_type: duplicate key `client_type`; keep only one"]


def test_list_names_a_duplicate_key_before_what_its_last_value_breaks(planet: Path) -> None:
    """JSON keeps the last of two `client_type`s: the problems of that value follow from the duplicate."""
    (planet / "dup").mkdir(mode=0o700, parents=True)
    file = planet / "dup" / "auth_client.json"
    file.write_text('{"client_type": "none", "client_type": "static_apikey"}')
    file.chmod(0o600)
    result = run("list")
    assert result.stderr.splitlines()[0] == (
        f"warning: profile dup is invalid: {file}: /client_type: duplicate key `client_type`; keep only one "
        "(and 1 more: `planet-profiles show dup` lists them)"
    )
    assert run("validate", str(file)).exit_code == 1


@pytest.mark.integration
def test_show_redacts_secrets_and_names_every_origin(planet: Path, team: Path, age_key: AgeKey) -> None:
    write_profile(planet, "plain", cc())
    make_encrypted_profile(team / "enc", cc(), [age_key.recipient])
    for name in ("plain", "enc"):  # no key needed, even for the encrypted one
        text, data = run("show", name), run("show", name, "--json")
        assert text.exit_code == data.exit_code == 0, text.output
        assert SECRET not in text.output + data.output
        config = json.loads(data.stdout)["config"]
        assert config["client_secret"]["value"].startswith("**********") and config["client_secret"]["secret"]
        assert "client_auth_method" not in config  # unset: as planet-auth sends it, negotiated
        assert config["auth_server"]["origin"].endswith(
            f"{name}/auth_client{'.sops' if name == 'enc' else ''}.json"
        )
    enc = json.loads(run("show", "enc", "--json").stdout)
    assert enc["encrypted"] is True and enc["recipients"] == [age_key.recipient]
    assert enc["origin"] == f"{team} (PL_AUTH_PROFILE_PATH)" and enc["selected_by"] == "argument"
    assert [row["selected"] for row in enc["selection"]][0] is True
    assert "(encrypted)" in run("show", "enc").stdout and "PLAINTEXT" in run("show", "plain").stdout


def test_show_lists_every_problem_the_did_you_mean_first(planet: Path) -> None:
    """`show` (and every profile command) names each problem, not `client_id: missing … (and 1 more
    problem(s))`, which hid the typo that caused it."""
    config = {"client_type": "oidc_client_credentials_secret", "auth_server": "https://login.example.com"}
    file = write_profile(planet, "typo", {**config, "clientid": "a"})
    for command in ("show", "token"):
        result = run(command, "typo")
        line = assert_one_error(result.stderr, result.stdout, result.exit_code)
        assert line == f"Error: {file}: 3 problems (listed above)"
        assert result.stderr.splitlines()[:3] == [
            f"{file}: /clientid: unknown key `clientid` (did you mean `client_id`?)",
            f"{file}: /client_id: missing required key `client_id`",
            f"{file}: /client_secret: missing required key `client_secret`",
        ]
    file.write_text(json.dumps({**config, "client_id": "a"}))  # one problem: one line
    line = assert_one_error(*(lambda r: (r.stderr, r.stdout, r.exit_code))(run("show", "typo")))
    assert line == f"Error: {file}: client_secret: missing required key `client_secret`"


def test_show_without_name_explains_the_selection(
    planet: Path, hermetic_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_profile(planet, "picked", {"client_type": "none"})
    (hermetic_env / ".planet.json").write_text(json.dumps({"PL_AUTH_PROFILE": "picked"}))
    data = json.loads(run("show", "--json").stdout)
    assert data["profile"] == "picked" and data["selected_by"] == "~/.planet.json"
    (hermetic_env / ".planet.json").unlink()  # it outranks PL_API_KEY
    monkeypatch.setenv("PL_API_KEY", SECRET)
    adhoc = run("show", "--json")
    assert SECRET not in adhoc.output
    config = json.loads(adhoc.stdout)["config"]
    assert config["api_key"]["origin"] == "PL_API_KEY" and config["client_type"]["value"] == "static_apikey"
    assert "PL_API_KEY (env, then ~/.planet.json) = api_key=***  <- selected" in run("show").stdout


@pytest.mark.integration
def test_status_reads_the_token_without_keys_or_network(planet: Path, age_key: AgeKey) -> None:
    make_encrypted_profile(planet / "enc", cc(), [age_key.recipient])
    assert json.loads(run("status", "enc", "--json").stdout)["state"] == "none"
    now = int(time.time())
    token = {
        "access_token": "a",
        "refresh_token": "r",
        "scope": "openid api.read",
        "_iat": now - 900,
        "_exp": now - 600,
    }
    path = planet / "enc" / "token.sops.json"
    path.write_text(json.dumps(token))
    path.chmod(0o600)
    data = json.loads(run("status", "enc", "--json").stdout)
    assert data["state"] == "refreshable" and data["scopes"] == ["openid", "api.read"]
    assert data["file"] == str(path) and data["requested_scopes"] == ["api.read"]
    text = run("status", "enc").stdout
    assert "expired 10 min ago" in text and "refresh token held" in text
    path.write_text(json.dumps({**token, "_exp": now + 3600, "refresh_token": None}))
    assert (
        "valid (expires in 59 min" in run("status", "enc").stdout
        or "valid (expires in 1 h" in run("status", "enc").stdout
    )
    path.chmod(0o644)
    assert json.loads(run("status", "enc", "--json").stdout)["state"] == "unreadable"


def test_no_color_and_ascii_marks(planet: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_profile(planet, "n", {"client_type": "none"})
    coloured = run("doctor", "n", color=True)
    assert coloured.exit_code == 0 and "\x1b[" in coloured.stdout and "✓" in coloured.stdout
    monkeypatch.setenv("NO_COLOR", "1")
    plain = run("doctor", "n", color=True)
    assert "\x1b[" not in plain.stdout
    ascii_run = sh("doctor", "n", env={"PYTHONIOENCODING": "ascii", "NO_COLOR": "1"})
    assert ascii_run.returncode == 0 and "[ok]" in ascii_run.stdout, ascii_run.stderr


def test_human_duration() -> None:
    from planet_profiles._cli._common import human_duration

    assert [human_duration(s) for s in (0, 42, 252, 3600, 11100, 90000, 172800)] == [
        "0 s", "42 s", "4 min 12 s", "1 h", "3 h 5 min", "1 day 1 h", "2 days",
    ]  # fmt: skip
