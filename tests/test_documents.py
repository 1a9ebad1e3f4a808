"""One reader for profile files (`planet_profiles._documents`): the loader, the CLI (`validate`, `show`,
`list`) and the pre-commit hook give the same answer, in the same words, for every bad file; and the reader
is the hardened one (modes and owners from the open handles, size and nesting limits)."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest

import planet_profiles
from planet_profiles import ConfigError, ProfileError, StorageError
from planet_profiles._documents import MAX_DEPTH, MAX_PROFILE_BYTES, parse_json, read_profile
from planet_profiles._hooks import main_validate
from tests.test_cli import run

GOOD = {"client_type": "none"}


def _profile(home: Path, name: str, content: bytes) -> Path:
    path = home / ".planet" / name / "auth_client.json"
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.write_bytes(content)
    path.chmod(0o600)
    return path


def _group_writable_dir(path: Path) -> None:
    path.parent.chmod(0o775)


def _group_writable_file(path: Path) -> None:
    path.chmod(0o664)


def _other_owner(path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("giving a file to another user needs root")
    os.chown(path, 12345, 12345)


# name: (content, change after writing, words the one message must hold, pointer)
CASES: dict[str, tuple[bytes, Callable[[Path], None] | None, str, str]] = {
    "duplicate key": (
        b'{"client_type": "static_apikey", "client_type": "none"}',
        None,
        "duplicate key `client_type`; keep only one",
        "/client_type",
    ),
    "nested-JSON bomb": (b"[" * 200_000, None, f"JSON nested deeper than {MAX_DEPTH} levels", ""),
    "group-writable directory": (
        json.dumps(GOOD).encode(),
        _group_writable_dir,
        "is writable by group or others (mode 0775), so it cannot be trusted; run `chmod go-w ",
        "",
    ),
    "group-writable file": (
        json.dumps(GOOD).encode(),
        _group_writable_file,
        "is writable by group or others (mode 0664), so it cannot be trusted; run `chmod go-w ",
        "",
    ),
    "owned by another user": (
        json.dumps(GOOD).encode(),
        _other_owner,
        "belongs to another user (uid 12345), so it cannot be trusted",
        "",
    ),
    "too large": (
        b'{"client_type": "none", "x": "' + b"a" * MAX_PROFILE_BYTES + b'"}',
        None,
        "the file is larger than 1024 KiB",
        "",
    ),
    "not UTF-8": (b'{"client_type": "\xff"}', None, "not UTF-8 text (byte 17); save the file as UTF-8", ""),
    "empty": (b" \n", None, "the file is empty", ""),
}


@pytest.mark.parametrize("case", list(CASES))
def test_every_entry_point_gives_the_same_answer(case: str, hermetic_env: Path) -> None:
    content, change, words, pointer = CASES[case]
    _profile(hermetic_env, "good", json.dumps(GOOD).encode())
    path = _profile(hermetic_env, "bad", content)
    if change is not None:
        change(path)
    document = read_profile(path)
    [problem] = document.problems
    assert words in problem.message and problem.pointer == pointer and problem.file == str(path)
    line = f"{path}: {pointer or '/'}: {problem.message}"  # how `validate` and the hook print it

    # the loader
    with pytest.raises(ProfileError) as caught:
        planet_profiles.open_profile("bad")
    assert type(caught.value) is (StorageError if document.refused else ConfigError)
    assert caught.value.file == str(path) and problem.message in str(caught.value)

    # the CLI: validate, show, list
    validated = run("validate", str(path))
    assert validated.exit_code == 1 and validated.stdout.splitlines() == [line]
    shown = run("show", "bad")
    assert shown.exit_code == 1 and problem.message in shown.stderr and str(path) in shown.stderr
    listed = run("list", "--json")
    assert listed.exit_code == 0, listed.output
    rows = {row["name"]: row for row in json.loads(listed.stdout)}
    assert rows["good"]["client_type"] == "none"  # one bad file does not break `list`
    assert rows["bad"]["client_type"] == "(invalid file)"
    assert f"warning: profile bad is invalid: {path}: " in listed.stderr and problem.message in listed.stderr

    # the pre-commit hook
    assert main_validate([str(path)]) == 1


def test_hook_prints_the_same_line(hermetic_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _profile(hermetic_env, "bad", b'{"client_type": "none", "client_type": "none"}')
    assert main_validate([str(path)]) == 1
    assert capsys.readouterr().out == f"{path}: /client_type: duplicate key `client_type`; keep only one\n"


def test_the_loader_no_longer_takes_the_last_of_two_keys(hermetic_env: Path) -> None:
    _profile(hermetic_env, "p", b'{"client_type": "static_apikey", "client_type": "none"}')
    with pytest.raises(ConfigError) as caught:
        planet_profiles.open_profile("p")
    assert caught.value.key == "client_type"


def test_profiles_on_the_search_path_are_checked_too(
    hermetic_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    team = hermetic_env / "team"
    path = team / "shared" / "auth_client.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(GOOD))
    monkeypatch.setenv("PL_AUTH_PROFILE_PATH", str(team))
    assert planet_profiles.open_profile("shared").profile_name() == "shared"  # 0755 / 0644: fine
    path.parent.chmod(0o777)
    with pytest.raises(StorageError) as caught:
        planet_profiles.open_profile("shared")
    assert f"run `chmod go-w {path.parent}`" in str(caught.value)


def test_unchanged_bytes_are_not_validated_again_but_read_and_checked(
    hermetic_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The loader keeps the config of bytes it validated (`_loader._VALIDATED`, P2 of `make bench`): opening
    the same unchanged profile again skips the schema check only. An edit is validated afresh, and the
    reader's checks of the file run at every load."""
    from planet_profiles import _loader

    checked: list[str | None] = []
    real = _loader.parse_config

    def counting(data: object, *, file: str | None = None) -> object:
        checked.append(file)
        return real(data, file=file)  # type: ignore[arg-type]

    monkeypatch.setattr(_loader, "parse_config", counting)
    path = _profile(hermetic_env, "memo", json.dumps(GOOD).encode())
    for _ in range(3):
        assert planet_profiles.open_profile("memo").profile_name() == "memo"
    assert checked == [str(path)]
    path.write_bytes(b'{"client_type": "none", "scopes": 1}')
    with pytest.raises(ConfigError) as caught:
        planet_profiles.open_profile("memo")
    assert caught.value.key == "scopes" and len(checked) == 2
    path.write_text(json.dumps(GOOD))
    path.chmod(0o666)  # the bytes validated first, in a file others may now write
    with pytest.raises(StorageError, match="mode 0666"):
        planet_profiles.open_profile("memo")
    assert len(checked) == 2


def test_a_symlink_is_judged_by_the_file_it_names(hermetic_env: Path) -> None:
    target = hermetic_env / "elsewhere.json"
    target.write_text(json.dumps(GOOD))
    target.chmod(0o666)
    link = hermetic_env / ".planet" / "p" / "auth_client.json"
    link.parent.mkdir(parents=True, mode=0o700)
    link.symlink_to(target)
    [problem] = read_profile(link).problems
    assert "mode 0666" in problem.message
    target.chmod(0o644)
    assert planet_profiles.open_profile("p").profile_name() == "p"


def test_modes_come_from_the_open_handle(hermetic_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A path lookup after opening (which an attacker could race) would see this harmless stat: unused."""
    path = _profile(hermetic_env, "p", json.dumps(GOOD).encode())
    path.chmod(0o666)
    harmless = os.stat(hermetic_env)
    monkeypatch.setattr(os, "stat", lambda *a, **k: harmless)
    monkeypatch.setattr(os, "lstat", lambda *a, **k: harmless)
    [problem] = read_profile(path).problems
    assert "mode 0666" in problem.message


def test_a_fifo_does_not_block_the_reader(hermetic_env: Path) -> None:
    path = hermetic_env / ".planet" / "p" / "auth_client.json"
    path.parent.mkdir(parents=True, mode=0o700)
    os.mkfifo(path, 0o600)
    started = time.monotonic()
    [problem] = read_profile(path).problems
    assert problem.message == "cannot read the file: not a regular file"
    assert time.monotonic() - started < 5


def test_nesting_limit() -> None:
    deep_ok = "[" * MAX_DEPTH + "]" * MAX_DEPTH
    assert parse_json(deep_ok, file="f") == (json.loads(deep_ok), [])
    too_deep = "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1)
    assert parse_json(too_deep, file="f")[1][0].message.startswith("JSON nested deeper than")
    brackets_in_strings = json.dumps({"client_type": "none", "x": "[{" * 1000})
    assert parse_json(brackets_in_strings, file="f")[1] == []
    started = time.monotonic()
    assert parse_json(b"{" * MAX_PROFILE_BYTES, file="f")[1][0].message.startswith("JSON nested deeper")
    assert time.monotonic() - started < 5


# ---------------------------------------------------------------- token files and HTTP bodies


def test_token_files_have_a_size_and_a_nesting_limit(hermetic_env: Path) -> None:
    from planet_profiles._cli._common import read_token_state
    from planet_profiles._tokens import MAX_TOKEN_BYTES, FileTokenStore, TokenFileError

    path = hermetic_env / ".planet" / "p" / "token.json"
    path.parent.mkdir(parents=True, mode=0o700)
    for content, words in (
        (b'{"access_token": "' + b"a" * MAX_TOKEN_BYTES + b'"}', "larger than 64 KiB"),
        (b"[" * 50_000, f"nested deeper than {MAX_DEPTH} levels"),
    ):
        path.write_bytes(content)
        path.chmod(0o600)
        with pytest.raises(TokenFileError) as caught:
            FileTokenStore(path).load()
        assert words in str(caught.value) and caught.value.file == str(path)
        state = read_token_state(path)  # what `list` and `status` show: never an exception
        assert state.state == "unreadable" and words in (state.problem or "")


def test_token_directory_is_made_private_when_tokens_are_written(hermetic_env: Path) -> None:
    from planet_profiles._tokens import FileTokenStore, Token

    directory = hermetic_env / ".planet" / "p"
    directory.mkdir(parents=True)
    directory.chmod(0o755)
    FileTokenStore(directory / "token.json").save(Token({"access_token": "a"}))
    assert directory.stat().st_mode & 0o777 == 0o700
    assert (directory / "token.json").stat().st_mode & 0o777 == 0o600


class _Endless:
    """A loopback HTTP server whose answers never end (no Content-Length), or announce a huge length."""

    def __init__(self, announce: bool) -> None:
        import http.server
        import threading

        sent = self.sent = [0]

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                if announce:
                    self.send_header("Content-Length", str(10 << 30))
                self.end_headers()
                chunk = b" " * 65536
                try:
                    while sent[0] < (10 << 30):
                        self.wfile.write(chunk)
                        sent[0] += len(chunk)
                except OSError:
                    return

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/.well-known/openid-configuration"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.parametrize("announce", [False, True], ids=["streamed", "content-length"])
def test_http_bodies_are_limited_while_streaming(announce: bool) -> None:
    from planet_profiles import TransportError
    from planet_profiles._http import MAX_BODY_BYTES, RetryPolicy, request

    server = _Endless(announce)
    try:
        started = time.monotonic()
        with pytest.raises(TransportError) as caught:
            request("GET", server.url, policy=RetryPolicy(attempts=1))
        assert "larger than 1024 KiB" in str(caught.value)
        assert time.monotonic() - started < 10
        assert server.sent[0] < 64 * MAX_BODY_BYTES  # stopped early: far less than the 10 GiB on offer
    finally:
        server.close()
