"""Fuzzing every input planet-profiles reads (SECURITY BAD-01, TOK-09): profile and sops documents, token
files, environment values and `~/.planet.json`, and CLI arguments.

For every generated input:

- the outcome is a result or a `ProfileError` subclass that says where the problem is (its `file` and/or
  `key`), never another exception type;
- `validate_file` / `validate_document` never raise: they return problems, each naming the file;
- no secret of the input (values of secret keys, token strings, private key lines) shows in an error's
  message, `repr`, `args` or problems, nor in the `repr` of what was loaded;
- nothing on disk under HOME changes (the tree is hashed before and after each example);
- the CLI never prints a traceback, exits 0, 1, 2 (or 130), and prints exactly one `Error:` line on failure.

The strategies live in `tests/fuzz_strategies.py`; every example runs in a fresh HOME below `tmp_path`. A
bug the fuzzers find is listed in `KNOWN_BUGS` (library) or `KNOWN_CLI` (CLI contract) with a strict-xfail
regression test until it is fixed (the properties tolerate and report it meanwhile); the regression tests of
the bugs found so far, all fixed, are at the end of this module. Settings: `tests/hypothesis_profiles.py`
(`HYPOTHESIS_PROFILE=soak` for thousands of examples). With `PLANET_PROFILES_FUZZ_REPORT=FILE`, a JSON
report is written when the module finishes (read by `bench/soak.py`): `total_cases` / `fuzz_cases`, `cases`
per property, `unknown_untyped_count`, `known_bugs`, `leaks`, `untyped_exceptions` (the first 200),
`outcomes`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import sys
import tempfile
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import planet_auth_utils
import planet_profiles
from planet_profiles import ProfileError, TokenFileError
from tests.fuzz_strategies import (
    MARK,
    TOKEN_PROFILES,
    dumps,
    env_text,
    environments,
    files_for,
    minimal_profile,
    names,
    pems,
    profile_bytes,
    secret_text,
    secrets_of,
    seed_home,
    sops_docs,
    strings_in,
    tampered,
    token_bytes,
    user_config_bytes,
    write,
)
from tests.hypothesis_profiles import fuzz_settings, selected_profile

REPORT_ENV = "PLANET_PROFILES_FUZZ_REPORT"

# ---------------------------------------------------------------- the ledger, known bugs, the harness


def _frames(exc: BaseException) -> set[str]:
    return {frame.name for frame in traceback.extract_tb(exc.__traceback__)}



KNOWN_BUGS: dict[str, Callable[[BaseException], bool]] = {
    # Empty: every bug the fuzzers found is fixed; its regression test is at the end of this module. A new
    # finding goes here (name: matcher) with a strict-xfail test until it is fixed.
}


class Ledger:
    """What the fuzzers saw: examples per property and every exception that was not a `ProfileError`."""

    def __init__(self) -> None:
        self.cases: Counter[str] = Counter()
        self.outcomes: Counter[str] = Counter()  # "property target -> result type", to see what was reached
        self.untyped: list[dict[str, Any]] = []
        self.leaks = 0
        self.started = time.monotonic()

    def report(self) -> dict[str, Any]:
        known = Counter(f["known_bug"] for f in self.untyped if f["known_bug"])
        return {
            "profile": selected_profile(),
            "cases": dict(self.cases),
            "total_cases": sum(self.cases.values()),
            "fuzz_cases": sum(self.cases.values()),
            "seconds": round(time.monotonic() - self.started, 1),
            "leaks": self.leaks,
            "untyped_exceptions": self.untyped[:200],
            "untyped_count": len(self.untyped),
            "unknown_untyped_count": sum(1 for f in self.untyped if not f["known_bug"]),
            "known_bugs": dict(known),
            "outcomes": dict(sorted(self.outcomes.items())),
        }


LEDGER = Ledger()


@pytest.fixture(scope="module", autouse=True)
def fuzz_report() -> Iterator[Ledger]:
    yield LEDGER
    out = os.environ.get(REPORT_ENV)
    if out:
        Path(out).write_text(json.dumps(LEDGER.report(), indent=2, sort_keys=True) + "\n")


def _leaks(text: str, secrets: Sequence[str]) -> list[str]:
    return [s for s in secrets if s in text]


def check_error(exc: ProfileError, secrets: Sequence[str], where: str) -> None:
    """A typed error names a place (file and/or key) and holds no secret."""
    assert exc.file or exc.key, f"{where}: {type(exc).__name__} names neither a file nor a key: {exc}"
    rendered = " ".join(
        [str(exc), repr(exc), repr(exc.args), str(exc.hint), *(str(p) for p in getattr(exc, "problems", ()))]
    )
    no_leak(rendered, secrets, f"{where}: a secret leaked into {type(exc).__name__}")


def no_leak(text: str, secrets: Sequence[str], what: str) -> None:
    found = _leaks(text, secrets)
    LEDGER.leaks += bool(found)
    assert not found, f"{what}: {text[:2000]}"


def attempt(prop: str, where: str, call: Callable[[], Any], secrets: Sequence[str] = ()) -> Any:
    """`call()`'s result, or the `ProfileError` it raised (checked); any other exception fails the property
    unless it is a `KNOWN_BUGS` entry (then it is recorded and None is returned)."""
    try:
        result = call()
    except ProfileError as exc:
        LEDGER.outcomes[f"{prop} {where} -> {type(exc).__name__}"] += 1
        check_error(exc, secrets, where)
        return exc
    except Exception as exc:  # noqa: BLE001 - that is what is being looked for
        LEDGER.outcomes[f"{prop} {where} -> untyped {type(exc).__name__}"] += 1
        known = next((name for name, match in KNOWN_BUGS.items() if match(exc)), None)
        LEDGER.untyped.append(
            {
                "property": prop,
                "target": where,
                "type": type(exc).__name__,
                "message": str(exc)[:300],
                "known_bug": known,
            }
        )
        if known is None:
            raise AssertionError(f"{where} raised {type(exc).__name__}, not a ProfileError: {exc}") from exc
        return None
    LEDGER.outcomes[f"{prop} {where} -> ok"] += 1
    return result


def digest(root: Path) -> dict[str, tuple[str, int]]:
    """Every file and directory below `root`: content hash (files) and mode."""
    seen: dict[str, tuple[str, int]] = {}
    for directory, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(directory, name)
            info = path.lstat()
            content = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "dir"
            seen[str(path.relative_to(root))] = (content, info.st_mode)
    return seen


@contextlib.contextmanager
def sandbox(base: Path, env: Mapping[str, str] | None = None) -> Iterator[Path]:
    """A fresh HOME below `base` and extra environment variables, both undone afterwards."""
    home = Path(tempfile.mkdtemp(dir=base, prefix="home"))
    saved = dict(os.environ)
    os.environ.update({"HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"), **(env or {})})
    try:
        yield home
    finally:
        for name in set(os.environ) - set(saved):
            del os.environ[name]
        os.environ.update(saved)
        shutil.rmtree(home, ignore_errors=True)


# ---------------------------------------------------------------- (a) profile documents


def use_context(prop: str, ctx: Any, secrets: Sequence[str]) -> None:
    """What can be done with a loaded profile without a network: repr, readiness, client auth, pages."""
    shown = repr(ctx) + repr(ctx.auth_client()) + repr(ctx.auth_client().config)
    no_leak(shown, secrets, "a secret leaked")
    attempt(prop, "request_authenticator_is_ready", ctx.request_authenticator_is_ready, secrets)
    client = ctx.auth_client()
    if hasattr(client, "client_auth"):
        auth = attempt(prop, "client_auth", client.client_auth, secrets)
        no_leak(repr(auth), secrets, "a secret leaked")
    if client.client_type.startswith("oidc_auth_code"):
        from planet_profiles._flows.loopback import acknowledgement_page

        attempt(prop, "acknowledgement_page", lambda: acknowledgement_page(client.config, file=client.file))
    if client.static_header() is not None:
        no_leak(repr(ctx.request_authenticator()), secrets, "a secret leaked")


@fuzz_settings()
@given(case=profile_bytes(), junk_pem=st.binary(max_size=200))
def test_profile_documents(case: tuple[Any, bytes], junk_pem: bytes, tmp_path: Path) -> None:
    doc, raw = case
    secrets = secrets_of(doc)
    LEDGER.cases["profile_documents"] += 1
    with sandbox(tmp_path) as home:
        path = write(home / ".planet" / "fz" / "auth_client.json", raw)
        files_for(home, path.parent, junk_pem)
        before = digest(home)

        problems = attempt("profile_documents", "validate_file", lambda: planet_profiles.validate_file(path))
        assert isinstance(problems, list), "validate_file raised instead of returning problems"
        assert all(p.file == str(path) for p in problems)
        no_leak(" ".join(map(str, problems)), secrets, "a secret leaked")
        problems = planet_profiles.validate_document(doc, file="<doc>")
        assert all(p.file == "<doc>" for p in problems)
        no_leak(" ".join(map(str, problems)), secrets, "a secret leaked")

        loaded = attempt(
            "profile_documents", "open_profile", lambda: planet_profiles.open_profile("fz"), secrets
        )
        if isinstance(loaded, ProfileError) and loaded.file and loaded.file != str(path):
            assert loaded.key, f"an error about another file must name its key: {loaded!r}"
        elif loaded is not None and not isinstance(loaded, ProfileError):
            use_context("profile_documents", loaded, secrets)
        if isinstance(doc, Mapping):
            adhoc = attempt(
                "profile_documents",
                "from_config",
                lambda: planet_profiles.from_config(doc, profile_name="fz", save_token_file=False),
                secrets,
            )
            if adhoc is not None and not isinstance(adhoc, ProfileError):
                use_context("profile_documents", adhoc, secrets)
                config = adhoc.auth_client().config
                no_leak(repr(config) + str(config) + json.dumps(config.to_dict()), secrets, "a secret leaked")
        assert digest(home) == before, "loading a profile changed files under HOME"


@fuzz_settings()
@given(doc=sops_docs())
def test_sops_shaped_documents_are_validated_without_raising(doc: Any, tmp_path: Path) -> None:
    LEDGER.cases["sops_documents"] += 1
    with sandbox(tmp_path) as home:
        path = write(home / "repo" / "fz" / "auth_client.sops.json", dumps(doc))
        before = digest(home)
        problems = attempt("sops_documents", "validate_file", lambda: planet_profiles.validate_file(path))
        assert isinstance(problems, list), "validate_file raised instead of returning problems"
        assert all(p.file == str(path) for p in problems)
        problems = planet_profiles.validate_document(doc, file="<enc>", encrypted=True)
        assert all(p.file == "<enc>" for p in problems)
        if isinstance(doc, dict) and "sops" not in doc:
            assert problems, "an encrypted profile without a `sops` block passed validation"
        assert digest(home) == before


@pytest.mark.integration
@fuzz_settings(scale=0.5)
@given(doc=sops_docs())
def test_sops_shaped_files_through_the_loader(doc: Any, tmp_path: Path, age_key: Any) -> None:
    LEDGER.cases["sops_loader"] += 1
    with sandbox(tmp_path, {"SOPS_AGE_KEY_FILE": age_key.identity_file}) as home:
        path = write(home / ".planet" / "fz" / "auth_client.sops.json", dumps(doc))
        before = digest(home)
        loaded = attempt("sops_loader", "open_profile", lambda: planet_profiles.open_profile("fz"))
        if isinstance(loaded, ProfileError):
            assert loaded.file == str(path) or loaded.key, repr(loaded)
        assert digest(home) == before


@pytest.fixture(scope="module")
def encrypted_profile(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, str, str]:
    """A real `auth_client.sops.json` (age): its bytes, its secret, and the key file that decrypts it."""
    from planet_profiles._sops import Sops
    from tests.fixtures_keys import new_age_key

    directory = tmp_path_factory.mktemp("encrypted")
    key = new_age_key(directory / "keys")
    secret = MARK + "-encrypted-client-secret"
    target = directory / "auth_client.sops.json"
    doc = {**minimal_profile("oidc_client_credentials_secret", secret), "scopes": ["api.read"]}
    Sops().encrypt(doc, target, age_recipients=[key.recipient])
    return target.read_bytes(), secret, key.identity_file


@pytest.mark.integration
@fuzz_settings(scale=0.5)
@given(data=st.data())
def test_tampered_encrypted_profiles(
    data: st.DataObject, tmp_path: Path, encrypted_profile: tuple[bytes, str, str]
) -> None:
    original, secret, key_file = encrypted_profile
    raw = data.draw(tampered(original))
    LEDGER.cases["tampered_encrypted"] += 1
    with sandbox(tmp_path, {"SOPS_AGE_KEY_FILE": key_file}) as home:
        write(home / ".planet" / "fz" / "auth_client.sops.json", raw)
        before = digest(home)
        loaded = attempt(
            "tampered_encrypted", "open_profile", lambda: planet_profiles.open_profile("fz"), [secret]
        )
        if raw == original:
            assert not isinstance(loaded, ProfileError), loaded
        if loaded is not None and not isinstance(loaded, ProfileError):
            use_context("tampered_encrypted", loaded, [secret])
        assert digest(home) == before
        assert not any(secret.encode() in p.read_bytes() for p in home.rglob("*") if p.is_file())


def use_token(prop: str, token: Any, path: Path, secrets: Sequence[str]) -> None:
    """Everything that reads a loaded token: repr, expiry maths, the credential the seed API returns."""
    from planet_profiles._context import Credential
    from planet_profiles._token_manager import refresh_at, still_valid

    def read() -> str:
        credential = Credential(token, path)
        parts = [repr(token), str(token), repr(credential), str(credential.expiry_time())]
        parts += [str(token.expires_at), str(token.issued_at), str(refresh_at(token))]
        parts.append(str(still_valid(token, time.time())))
        return " ".join(parts)

    shown = attempt(prop, "token repr and expiry", read, secrets)
    if isinstance(shown, str):
        no_leak(shown, secrets, "a secret leaked")


@fuzz_settings()
@given(
    case=token_bytes(),
    mode=st.sampled_from([0o600, 0o600, 0o600, 0o644, 0o640]),
    client_type=st.sampled_from(sorted(TOKEN_PROFILES)),
    shape=st.sampled_from(["file"] * 8 + ["directory", "symlink"]),
)
def test_token_files(
    case: tuple[Any, bytes], mode: int, client_type: str, shape: str, tmp_path: Path
) -> None:
    from planet_profiles._tokens import FileTokenStore, Token

    doc, raw = case
    secrets = [s for s in strings_in(doc) if MARK in s]
    LEDGER.cases["token_files"] += 1
    with sandbox(tmp_path) as home:
        write(home / ".planet" / "tok" / "auth_client.json", dumps(TOKEN_PROFILES[client_type]))
        write(home / "key.pem", pems()["ec"].encode())
        path = home / ".planet" / "tok" / "token.json"
        if shape == "directory":
            path.mkdir()
        elif shape == "symlink":
            path.symlink_to(write(home / "elsewhere.json", raw, mode))
        else:
            write(path, raw, mode)
        before = digest(home)

        loaded = attempt("token_files", "FileTokenStore.load", FileTokenStore(path).load, secrets)
        if isinstance(loaded, ProfileError):
            assert loaded.file == str(path), repr(loaded)
        elif isinstance(loaded, Token):
            use_token("token_files", loaded, path, secrets)
        ctx = attempt("token_files", "open_profile", lambda: planet_profiles.open_profile("tok"), secrets)
        if ctx is not None and not isinstance(ctx, ProfileError):
            attempt("token_files", "is_ready", ctx.request_authenticator_is_ready, secrets)
            manager = ctx.token_manager
            cached = attempt("token_files", "cached", manager.cached, secrets) if manager else None
            if isinstance(cached, Token) and attempt(
                "token_files", "is_fresh", lambda: manager.is_fresh(cached)
            ):
                header = attempt("token_files", "header", ctx.request_authenticator().header_value, secrets)
                assert isinstance(header, str) and header.endswith(cached.access_token)
        state = cli_token_state(path)
        if state is not None:
            shown = attempt("token_files", "cli token state", lambda: f"{state.describe()} {state.to_json()}")
            assert isinstance(shown, str)
            no_leak(shown, secrets, "a secret leaked")
        assert digest(home) == before


def cli_token_state(path: Path) -> Any:
    """The CLI's view of a token file (`status`), which must never raise at all."""
    from planet_profiles._cli._common import read_token_state

    state = attempt("token_files", "read_token_state", lambda: read_token_state(path))
    assert not isinstance(state, ProfileError), f"read_token_state raised {state!r}"
    return state


@fuzz_settings()
@given(
    env=environments,
    config=user_config_bytes,
    explicit=st.none() | names,
    api_key=secret_text,
)
def test_environment_and_user_config(
    env: dict[str, str], config: bytes | None, explicit: str | None, api_key: str, tmp_path: Path
) -> None:
    from planet_profiles._selection import resolve_source

    LEDGER.cases["environment"] += 1
    secrets = [api_key, *(v for v in env.values() if MARK in v), MARK + "-builtin-secret"]
    if config:
        secrets += [s for s in re.findall(rf"{MARK}[^\"\\]*", config.decode(errors="replace"))]
    with sandbox(tmp_path) as home:
        os.environ.update({k: v.replace("{home}", str(home)) for k, v in env.items()})
        seed_home(home, api_key)
        if config is not None:
            write(home / ".planet.json", config)
        before = digest(home)
        prop = "environment"
        attempt(prop, "resolve_source", lambda: resolve_source(explicit), secrets)
        explained = attempt(prop, "explain_selection", lambda: planet_profiles.explain_selection(explicit))
        if isinstance(explained, list):
            no_leak(json.dumps(explained), secrets, "a secret leaked")
        attempt(prop, "list_profiles", planet_profiles.list_profiles, secrets)
        for where, load in [
            ("open_profile", lambda: planet_profiles.open_profile(explicit)),
            (
                "initialize_auth_client_context",
                lambda: planet_auth_utils.PlanetAuthFactory.initialize_auth_client_context(
                    auth_profile_opt=explicit
                ),
            ),
        ]:
            ctx = attempt(prop, where, load, secrets)
            if ctx is not None and not isinstance(ctx, ProfileError):
                use_context(prop, ctx, secrets)
                no_leak(repr(ctx.source), secrets, "a secret leaked")
        assert digest(home) == before


# ---------------------------------------------------------------- (e) CLI arguments


def cli_command() -> Any:
    from planet_profiles._cli import cli

    return cli


KNOWN_CLI: dict[str, Callable[[list[str], int, list[str]], bool]] = {
    # Empty: see KNOWN_BUGS.
}
CLI_SKIP = {"new"}  # copier scaffolding: slow, and covered by its own tests
GLOBAL_WORDS = ["-v", "--verbose", "-h", "--help", "-V", "--", "-", "--json", "--nope", "-x"]
CLI_PROFILES = ["good", "bad", "dev", "enc", "team", "ghost", "../x", "A", ""]
CLI_PATHS = [".planet/good", ".planet/bad/auth_client.json", ".planet/enc/auth_client.sops.json"]
CLI_PATHS += [".planet", "team", "missing.json", "/nonexistent/x", "~", ".planet/dev/token.json"]


@st.composite
def cli_args(draw: st.DrawFn) -> list[str]:
    cli = cli_command()
    names_ = sorted(set(cli.commands) - CLI_SKIP)
    command = draw(st.sampled_from([*names_, *names_, "nosuchcommand", "", "--help"]))
    words = list(GLOBAL_WORDS)
    if command in cli.commands:
        words += [opt for param in cli.commands[command].params for opt in param.opts if opt.startswith("-")]
    word = st.sampled_from(words) | st.sampled_from(CLI_PROFILES) | st.sampled_from(CLI_PATHS) | env_text
    args = draw(st.lists(word, max_size=4))
    prefix = draw(st.sampled_from([[], [], ["-v"]]))
    if command == "schema":
        args = ["--check", *args]  # `schema DIR` writes into DIR: keep the fuzzed paths unwritten
    return [*prefix, *([command] if command else []), *args]


@pytest.mark.integration
@fuzz_settings(scale=0.75)
@given(
    args=cli_args(),
    token=token_bytes(),
    enc=sops_docs(),
    api_key=secret_text,
    selected=st.none() | st.sampled_from(CLI_PROFILES),
)
def test_cli_arguments(
    args: list[str],
    token: tuple[Any, bytes],
    enc: Any,
    api_key: str,
    selected: str | None,
    tmp_path: Path,
) -> None:
    with contextlib.ExitStack() as stack:
        run_cli(stack, args, token, enc, api_key, selected, tmp_path)


def run_cli(
    stack: contextlib.ExitStack,
    args: list[str],
    token: tuple[Any, bytes],
    enc: Any,
    api_key: str,
    selected: str | None,
    tmp_path: Path,
) -> None:
    import webbrowser

    from click.testing import CliRunner

    from planet_profiles import _http, _oauth
    from planet_profiles._cli import _app

    one_try = _http.RetryPolicy(attempts=1, timeout=(1.0, 2.0))  # fault injection: fail fast, no sleeps
    caught: list[BaseException] = []
    original = _app._debug_traceback

    def record(ctx: Any) -> None:  # called while the command's exception is being handled
        exc = sys.exc_info()[1]
        if exc is not None:
            caught.append(exc)
        original(ctx)

    patch = stack.enter_context(pytest.MonkeyPatch.context())  # undone after each example
    for function in (_http.request, _oauth.post_form):
        assert function.__kwdefaults__ is not None
        patch.setitem(function.__kwdefaults__, "policy", one_try)
    patch.setattr(webbrowser, "_tryorder", None)
    patch.setattr(_app, "_debug_traceback", record)
    LEDGER.cases["cli"] += 1
    env = {"BROWSER": "true", "NO_COLOR": "1", **({"PL_AUTH_PROFILE": selected} if selected else {})}
    with sandbox(tmp_path, env) as home, contextlib.chdir(home):
        seed_home(home, api_key)
        write(home / ".planet" / "dev" / "auth_client.json", dumps(TOKEN_PROFILES["oidc_device_code"]))
        write(home / ".planet" / "dev" / "token.json", token[1])
        write(home / ".planet" / "enc" / "auth_client.sops.json", dumps(enc))
        before = digest(home)
        result = CliRunner().invoke(cli_command(), args, catch_exceptions=True)
        output, errors = result.output, result.stderr
        where = f"planet-profiles {' '.join(args)!r}"
        verbose = "-v" in args or "--verbose" in args
        command = next((a for a in args if a in cli_command().commands), "?")
        LEDGER.outcomes[f"cli {command} -> exit {result.exit_code}"] += 1
        if not verbose:  # `-v` prints the traceback on purpose (code lines, no values)
            assert "Traceback" not in output, f"{where} printed a traceback:\n{output}"
        if result.exit_code == 70:
            exc = caught[-1] if caught else RuntimeError(errors)
            attempt("cli", f"{where} (internal error)", lambda: _raise(exc))
        else:
            assert result.exit_code in (0, 1, 2, 130), f"{where} exited {result.exit_code}:\n{output}"
        lines = [line for line in errors.splitlines() if line.startswith("Error:")]
        known = next(
            (name for name, match in KNOWN_CLI.items() if match(args, result.exit_code, lines)), None
        )
        if known:
            LEDGER.untyped.append(
                {
                    "property": "cli",
                    "target": where,
                    "type": "cli-contract",
                    "message": "",
                    "known_bug": known,
                }
            )
        elif result.exit_code != 0:
            trace = "".join(traceback.format_exception(*result.exc_info)) if result.exc_info else ""
            assert len(lines) == 1, (
                f"{where} exited {result.exit_code} with {len(lines)} Error: lines:\n{errors}\n{trace}"
            )
            after = digest(home)
            gone = {p for p in before if p not in after and p.endswith(("token.json", "token.json.lock"))}
            assert {p: v for p, v in after.items() if before.get(p) != v} == {} and set(before) - set(
                after
            ) <= gone
        if not (args and "token" in args):
            no_leak(output, [api_key], f"{where} printed the API key")


def _raise(exc: BaseException) -> None:
    raise exc


# ---------------------------------------------------------------- regressions of the fuzzers' findings
# Each test shows one bug the fuzzers found (now fixed) with its smallest input.


@pytest.mark.parametrize("raw", ["NaN", "Infinity", "-Infinity", "1e400", "1" + "0" * 400])
def test_known_bug_token_numbers_out_of_range(raw: str, hermetic_env: Path) -> None:
    from planet_profiles._tokens import FileTokenStore

    path = write(
        hermetic_env / ".planet" / "p" / "token.json", f'{{"access_token": "a", "_exp": {raw}}}'.encode()
    )
    with pytest.raises(TokenFileError) as info:
        FileTokenStore(path).load()
    assert info.value.key == "_exp" and info.value.file == str(path)


def test_known_bug_token_file_that_is_a_directory(hermetic_env: Path) -> None:
    from planet_profiles._tokens import FileTokenStore

    path = hermetic_env / ".planet" / "p" / "token.json"
    path.mkdir(parents=True)
    with pytest.raises(TokenFileError) as info:
        FileTokenStore(path).load()
    assert info.value.file == str(path)


@pytest.mark.parametrize("where", ["PL_AUTH_PROFILE_PATH", "client_privkey_file"])
def test_known_bug_tilde_of_an_unknown_user(where: str, monkeypatch: pytest.MonkeyPatch) -> None:
    if where == "PL_AUTH_PROFILE_PATH":
        monkeypatch.setenv(where, "~nosuchuser-fz/profiles")
        with pytest.raises(planet_profiles.ProfileNotFoundError):
            planet_profiles.open_profile("abc")
        return
    config = {
        **minimal_profile("oidc_client_credentials_pubkey", ""),
        "client_privkey_file": "~nosuchuser-fz/k.pem",
    }
    del config["client_privkey"]
    ctx = planet_profiles.from_config(config, profile_name="p", save_token_file=False)
    with pytest.raises(planet_profiles.ConfigError) as info:
        ctx.auth_client().client_auth()  # type: ignore[attr-defined]
    assert info.value.key == "client_privkey_file"


@pytest.mark.parametrize("case", ["search path entry", "profile name", "token directory"])
def test_known_bug_names_too_long(case: str, hermetic_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from planet_profiles._tokens import FileTokenStore, Token

    (hermetic_env / ".planet").mkdir()
    long = "a" * 300
    if case == "search path entry":
        monkeypatch.setenv("PL_AUTH_PROFILE_PATH", str(hermetic_env / long))
        assert planet_profiles.list_profiles() == []
        with pytest.raises(planet_profiles.ProfileNotFoundError):
            planet_profiles.open_profile("abc")
    elif case == "profile name":
        with pytest.raises(ProfileError):
            planet_profiles.open_profile(long)
    else:
        with pytest.raises(planet_profiles.StorageError):
            FileTokenStore(hermetic_env / ".planet" / long / "token.json").save(Token({"access_token": "a"}))


def test_known_bug_user_config_not_utf8(hermetic_env: Path) -> None:
    path = write(hermetic_env / ".planet.json", b'{"PL_AUTH_PROFILE": "\xff"}')
    with pytest.raises(planet_profiles.StorageError) as info:
        planet_profiles.open_profile()
    assert info.value.file == str(path)


@pytest.mark.parametrize("spec", [".", ":", ".x", "os.path.join", "json.JSONDecodeError"])
def test_known_bug_builtin_provider_specs(spec: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PL_AUTH_BUILTIN_CONFIG_PROVIDER", spec)
    with pytest.raises(ProfileError) as info:
        planet_profiles.open_profile()
    assert info.value.key == "PL_AUTH_BUILTIN_CONFIG_PROVIDER"


def test_known_cli_bare_command(hermetic_env: Path) -> None:
    from click.testing import CliRunner

    result = CliRunner().invoke(cli_command(), [])
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert result.exit_code == 0 or len(errors) == 1, (result.exit_code, result.stderr)
