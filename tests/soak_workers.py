"""Worker programs for the crash-safety and multi-process tests and for `make soak` (`bench/soak.py`).

Run as subprocesses (`python -m tests.soak_workers MODE ...`, repository root on `PYTHONPATH`, `HOME` set
by the caller); every mode prints one JSON object on its last stdout line:

- `crash`: forks writer processes that save `token.json` (or `token.sops.json`), the profile and
  `~/.planet.json` in a tight loop and SIGKILLs each one (its whole process group, sops included) after a
  random 0–N ms; after every kill it checks the files (parse, refresh token, `0600`, nothing lost).
- `read`: reads the same files in a loop until SIGTERM and counts every read that is not a complete file.
- `seed`: logs a resource-owner profile in once (password from `SOAK_PASSWORD`, never stored).
- `hammer`: `open_profile(NAME).request_authenticator()` with requests in a loop, after a `GO` line on stdin.

The orchestrators `crash_campaign` and `shared_profile_run` (around `hammer_campaign`) start these and
return the merged figures; the tests assert on them and `bench/soak.py` prints them.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import random
import secrets
import signal
import stat
import sys
import time
import traceback
from collections import Counter
from pathlib import Path
from typing import Any

from tests.fleet_workers import WorkerProcess
from tests.fleet_workers import worker_env as fleet_worker_env

REPO = Path(__file__).resolve().parent.parent
PROFILE = "soak"
RO_SCOPES = ["openid", "offline_access", "api.read"]
_MAX_ERRORS = 5  # first messages kept per report (our errors never carry a secret)


def soak_mode() -> bool:
    """`PLANET_PROFILES_SOAK=1`: the tests run their long versions."""
    return os.environ.get("PLANET_PROFILES_SOAK", "").strip().lower() in ("1", "true", "yes")


# --- the files under test ---------------------------------------------------------------------------


def _paths(encrypted: bool) -> dict[str, Path]:
    """Token, profile and user config files below `HOME` (read when called: `HOME` is the worker's)."""
    from planet_profiles import _locations

    profile_dir = _locations.user_profiles_dir() / PROFILE
    return {
        "token": _locations.token_path(PROFILE, encrypted=encrypted),
        "profile": profile_dir / ("auth_client.sops.json" if encrypted else "auth_client.json"),
        "config": _locations.user_config_path(),
    }


def _refresh_token(salt: str, seq: int) -> str:
    """The fake refresh token of write number `seq`: its content proves which write a file holds."""
    return f"rt-{seq}-{hashlib.sha256(f'{salt}:{seq}'.encode()).hexdigest()[:16]}"


def _token(salt: str, seq: int) -> Any:
    from planet_profiles._tokens import Token

    now = int(time.time())
    return Token(
        {
            "access_token": f"at-{seq}-{secrets.token_hex(8)}",
            "refresh_token": _refresh_token(salt, seq),
            "token_type": "Bearer",
            "expires_in": 3600,
            "_iat": now,
            "_exp": now + 3600,
            "seq": seq,
            "padding": "x" * random.randint(0, 4096),  # noqa: S311 - sizes vary so a torn write would show
        }
    )


def _token_store(encrypted: bool) -> Any:
    from planet_profiles._tokens import FileTokenStore, SopsTokenStore

    paths = _paths(encrypted)
    if encrypted:
        return SopsTokenStore(paths["token"], profile_file=paths["profile"])
    return FileTokenStore(paths["token"])


def _check_token(store: Any, salt: str) -> tuple[int, str | None]:
    """(seq, problem) of the token file: load it as the library does and check it is one whole write."""
    token = store.load()
    if token is None:
        return -1, "token file missing"
    seq = token.data.get("seq")
    if not isinstance(seq, int):
        return -1, "token file without `seq`"
    if token.refresh_token is None:
        return seq, "no refresh token"
    if token.refresh_token != _refresh_token(salt, seq):
        return seq, "refresh token does not belong to this write"
    return seq, None


def _check_others(encrypted: bool) -> None:
    """Load the profile (plaintext variant only: it is rewritten) and `~/.planet.json` as the library does."""
    from planet_profiles import _loader, _locations

    if not encrypted:
        _loader.load_config(_paths(False)["profile"])
    if "seq" not in _locations.read_user_config():
        raise ValueError("~/.planet.json without `seq`")


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def stray_temp_files(home: Path) -> list[Path]:
    """The `.NAME.HEX.tmp` files `atomic_write` left in the directories under test."""
    dirs = [home, home / ".planet" / PROFILE]
    return sorted(p for d in dirs if d.is_dir() for p in d.iterdir() if p.name.endswith(".tmp"))


CRASH_COUNTS = (
    "kills",
    "writes_acked",
    "lost_refresh_tokens",
    "bad_token_after_kill",
    "corrupt_after_kill",
    "bad_mode",
    "writer_failures",
    "stray_tmp_max",
    "failed_kills",
)
_ISSUES = ("lost_refresh_tokens", "bad_token_after_kill", "corrupt_after_kill", "bad_mode", "writer_failures")


def rewrite_and_count_strays(home: Path) -> int:
    """Backdate the stray temp files by an hour, write each file under test once more through
    `atomic_write` and count the temp files still there (0 if a write cleans up after killed ones)."""
    from planet_profiles._atomic import atomic_write

    an_hour_ago = time.time() - 3600
    for path in stray_temp_files(home):
        os.utime(path, (an_hour_ago, an_hour_ago))
    for target in (*(home / ".planet" / PROFILE).glob("*.json"), home / ".planet.json"):
        atomic_write(target, target.read_bytes())
    return len(stray_temp_files(home))


def refresh_bounds(duration: float, ttl: float) -> tuple[int, int]:
    """(fewest, most) refreshes one shared token with lifetime `ttl` needs over `duration` s.

    `_token_manager.refresh_at` renews `window = min(60, ttl / 10)` s before `_exp`, and `_iat` is whole
    seconds, so a token lives between `ttl - window - 1` and `ttl - window` s; plus one for a 401 at a
    second boundary (the API's `exp` can be up to 1 s earlier than ours) and one for the start. Eight
    uncoordinated processes would need about eight times the upper bound.
    """
    window = min(60.0, ttl * 0.1)
    fewest = math.floor(duration / (ttl - window)) - 1
    most = math.ceil(duration / max(ttl - window - 1, 0.5)) + 2
    return max(fewest, 1), most


def expected_refreshes(duration: float, ttl: float) -> float:
    """How many expiries (so refreshes) `duration` s hold, plus the one due at the start.

    In steady state a refresh happens `ttl - window` s after a whole second, so the new token's `_iat` is
    that many seconds late (`_iat` and the server's `iat`/`exp` are whole seconds): a token is then renewed
    `floor(ttl - window)` s after it arrived, e.g. every 1.0 s for 2 s tokens.
    """
    usable = ttl - min(60.0, ttl * 0.1)
    lifetime = usable if usable == int(usable) else math.floor(usable)
    return duration / max(lifetime, 0.5) + 1


def _note(report: dict[str, Any], key: str, message: str) -> None:
    report[key] = report.get(key, 0) + 1
    if len(report["errors"]) < _MAX_ERRORS:
        report["errors"].append(f"{key}: {message}")


# --- crash: the writer and its killer --------------------------------------------------------------


def _initial_files(encrypted: bool, salt: str, age_recipient: str | None) -> None:
    from planet_profiles._atomic import ensure_private_dir
    from planet_profiles._sops import Sops

    paths = _paths(encrypted)
    ensure_private_dir(paths["profile"].parent)
    if encrypted:  # the profile names the recipients tokens are encrypted for (SECURITY TOK-10)
        assert age_recipient
        document = _profile_document(0, issuer="http://127.0.0.1:9", secret="soak-not-a-real-secret")
        Sops().encrypt(document, paths["profile"], age_recipients=[age_recipient])
    _write_round(encrypted, salt, 0)


def _profile_document(seq: int, *, issuer: str, secret: str | None = None) -> dict[str, Any]:
    """A resource-owner profile (`_secret` with a client secret); `seq` numbers the rewrite."""
    document: dict[str, Any] = {
        "client_type": "oidc_resource_owner",
        "auth_server": issuer,
        "client_id": f"client-{seq}",
        "scopes": RO_SCOPES,
    }
    if secret is not None:
        document.update(client_type="oidc_resource_owner_secret", client_secret=secret)
    return document


def _write_round(encrypted: bool, salt: str, seq: int, ack_fd: int | None = None) -> None:
    """One round of writes through the library: token, then (plaintext variant) profile, then user config."""
    from planet_profiles import _locations
    from planet_profiles._atomic import atomic_write
    from planet_profiles._models import parse_config

    _token_store(encrypted).save(_token(salt, seq))
    if ack_fd is not None:  # in the kernel once written: survives SIGKILL
        os.write(ack_fd, b"%d\n" % seq)
    if not encrypted:
        document = _profile_document(seq, issuer="http://127.0.0.1:9")
        _locations.save_profile(PROFILE, parse_config(document))
    config = {"PL_AUTH_PROFILE": PROFILE, "seq": seq, "padding": "y" * (seq % 3000)}
    atomic_write(_locations.user_config_path(), json.dumps(config).encode(), mode=0o600)


def _writer(encrypted: bool, salt: str, ack_file: Path, first_seq: int) -> None:
    """The child: write rounds until killed."""
    os.setpgid(0, 0)
    ack_fd = os.open(ack_file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    seq = first_seq
    while True:
        seq += 1
        _write_round(encrypted, salt, seq, ack_fd)


def _last_ack(ack_file: Path) -> int:
    lines = ack_file.read_bytes().splitlines() if ack_file.exists() else []
    return int(lines[-1]) if lines else 0


def crash(args: argparse.Namespace) -> dict[str, Any]:
    """Fork a writer, SIGKILL it after a random 0–`max_sleep_ms` ms, check the files; `kills` times."""
    import planet_profiles._loader
    import planet_profiles._models  # noqa: F401 - imported before forking: writers start writing at once

    encrypted, salt = args.store == "sops", args.salt
    home = Path.home()
    ack_file = Path(args.ack_file)
    rng = random.Random(args.seed)  # noqa: S311 - timing jitter, not a secret
    report: dict[str, Any] = {**dict.fromkeys(CRASH_COUNTS, 0), "errors": []}
    store = _token_store(encrypted)
    seq = _check_token(store, salt)[0]
    started = time.monotonic()
    for _ in range(args.kills):
        if time.monotonic() - started > args.time_limit:
            break
        issues = sum(report[key] for key in _ISSUES)
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child never returns
            try:
                _writer(encrypted, salt, ack_file, seq)
            except BaseException:  # noqa: BLE001 - the child reports whatever stopped it, then exits
                traceback.print_exc()  # to the driver's stderr, shown if the campaign fails
            finally:
                os._exit(3)
        try:
            os.setpgid(pid, pid)  # also done by the child: whoever runs first
        except OSError:
            pass
        time.sleep(rng.uniform(0, args.max_sleep_ms) / 1000)
        os.killpg(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        report["kills"] += 1
        if not os.WIFSIGNALED(status):
            _note(report, "writer_failures", f"writer exited with status {status} instead of dying")
        before, acked = seq, _last_ack(ack_file)
        report["writes_acked"] = acked
        try:
            seq, problem = _check_token(store, salt)
            if problem:
                _note(report, "bad_token_after_kill", problem)
            done = max(before, acked)  # writes known to be complete: on disk before, or acknowledged
            if seq < done:
                _note(report, "lost_refresh_tokens", f"file holds write {seq}, write {done} had completed")
            elif seq > done + 1:  # at most the one write in flight may have landed unacknowledged
                _note(report, "bad_token_after_kill", f"file holds write {seq}, only {done} completed")
            _check_others(encrypted)
        except Exception as exc:  # noqa: BLE001 - every failure is a finding, counted by type
            _note(report, "corrupt_after_kill", f"{type(exc).__name__}: {exc}")
        for path in _paths(encrypted).values():
            if path.exists() and _mode(path) != 0o600:
                _note(report, "bad_mode", f"{path.name} has mode {_mode(path):04o}")
        strays = stray_temp_files(home)
        report["stray_tmp_max"] = max(report["stray_tmp_max"], len(strays))
        for path in strays:
            if path.exists() and _mode(path) & 0o077:
                _note(report, "bad_mode", f"stray {path.name} has mode {_mode(path):04o}")
        seq = max(seq, acked)
        report["failed_kills"] += sum(report[key] for key in _ISSUES) > issues
    report["stray_tmp_final"] = len(stray_temp_files(home))
    report["elapsed"] = round(time.monotonic() - started, 2)
    return dict(report)


# --- read: a concurrent reader ---------------------------------------------------------------------


def read(args: argparse.Namespace) -> dict[str, Any]:
    encrypted, salt = args.store == "sops", args.salt
    stop = False

    def on_term(signum: int, frame: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, on_term)
    store = _token_store(encrypted)
    report: dict[str, Any] = {"reads": 0, "corrupt_reads": 0, "errors": []}
    print("READY", flush=True)
    while not stop:
        report["reads"] += 1
        try:
            _, problem = _check_token(store, salt)
            if problem:
                _note(report, "corrupt_reads", problem)
            _check_others(encrypted)
        except Exception as exc:  # noqa: BLE001 - a partial file shows up as any error: count them all
            _note(report, "corrupt_reads", f"{type(exc).__name__}: {exc}")
    return dict(report)


# --- seed and hammer: one profile, many processes ---------------------------------------------------


def seed(args: argparse.Namespace) -> dict[str, Any]:
    import planet_profiles

    ctx = planet_profiles.open_profile(args.profile)  # type: ignore[attr-defined,unused-ignore]
    credential = ctx.login(password=os.environ["SOAK_PASSWORD"])
    return {"token_file": str(credential.path())}


def hammer(args: argparse.Namespace) -> dict[str, Any]:
    import requests

    import planet_profiles

    ctx = planet_profiles.open_profile(args.profile)  # type: ignore[attr-defined,unused-ignore]
    auth = ctx.request_authenticator()
    session = requests.Session()
    session.trust_env = False
    statuses: Counter[int] = Counter()
    exceptions: Counter[str] = Counter()
    errors: list[str] = []
    retried = untyped = 0
    print("READY", flush=True)
    if sys.stdin.readline().strip() != "GO":
        return {"error": "no GO line"}
    deadline = time.monotonic() + args.duration
    while time.monotonic() < deadline:
        try:
            response = session.get(args.url, auth=auth, timeout=10)
            statuses[response.status_code] += 1
            retried += bool(response.history)
        except Exception as exc:  # noqa: BLE001 - every failure counts, by type
            exceptions[type(exc).__name__] += 1
            untyped += not isinstance(exc, planet_profiles.ProfileError)  # type: ignore[attr-defined,unused-ignore]
            if len(errors) < _MAX_ERRORS:
                errors.append(f"{type(exc).__name__}: {exc}")
    calls = sum(statuses.values()) + sum(exceptions.values())
    return {
        "calls": calls,
        "ok": statuses[200],
        "statuses": {str(k): v for k, v in statuses.items()},
        "exceptions": dict(exceptions),
        "retried_after_401": retried,
        "untyped": untyped,
        "errors": errors,
    }


# --- orchestrators (run in the test / bench process) ------------------------------------------------


def worker_env(home: Path, **extra: str) -> dict[str, str]:
    """`fleet_workers.worker_env` with the caller's `PL_*`/`SOPS_*` settings (the soak's sops key)."""
    return fleet_worker_env(home, settings=True, **extra)


class Worker(WorkerProcess):
    """A worker of this module (`python -m tests.soak_workers MODE ARGS…`)."""

    def __init__(self, mode: str, args: list[str], env: dict[str, str], *, stdin: bool = False) -> None:
        super().__init__([sys.executable, "-m", "tests.soak_workers", mode, *args], env, stdin=stdin)


def crash_campaign(
    workdir: Path, *, kills: int, max_sleep_ms: float = 30.0, encrypted: bool = False, time_limit: float = 600
) -> dict[str, Any]:
    """Kill a writer `kills` times while a reader reads; returns the merged figures (see `crash`, `read`).

    `HOME` of the workers is `workdir/home`; `time_limit` (s) bounds the kill loop.
    """
    home = workdir / "home"
    home.mkdir(parents=True, exist_ok=True)
    salt, extra = secrets.token_hex(8), {}
    store_args = ["--store", "sops" if encrypted else "file", "--salt", salt]
    if encrypted:
        from tests.fixtures_keys import new_age_key

        key = new_age_key(workdir / "keys")
        extra["SOPS_AGE_KEY_FILE"] = key.identity_file
        store_args += ["--age-recipient", key.recipient]
    env = worker_env(home, **extra)
    Worker("init", store_args, env).result(timeout=60)
    reader = Worker("read", store_args, env)
    try:
        reader.expect_ready()
        driver_args = ["--kills", str(kills), "--max-sleep-ms", str(max_sleep_ms)]
        driver_args += ["--ack-file", str(workdir / "acks"), "--time-limit", str(time_limit)]
        result = Worker("crash", store_args + driver_args, env).result(timeout=time_limit + 120)
    finally:
        if reader.process.poll() is None:
            reader.process.send_signal(signal.SIGTERM)
    read_result = reader.result(timeout=60)
    result["reads"] = read_result["reads"]
    result["corrupt_reads"] = read_result["corrupt_reads"]
    result["errors"] += read_result["errors"]
    return result


def write_profile(
    home: Path,
    issuer: str,
    client_id: str,
    username: str,
    *,
    secret: str | None = None,
    age_recipient: str | None = None,
) -> Path:
    """Write profile `soak` below `home`: `auth_client.json`, or with `secret` an `auth_client.sops.json`
    encrypted for `age_recipient`. No password in it: no silent re-login can hide a refused refresh token."""
    from planet_profiles._atomic import atomic_write, ensure_private_dir
    from planet_profiles._sops import Sops

    directory = ensure_private_dir(home / ".planet" / PROFILE)
    document = {**_profile_document(0, issuer=issuer, secret=secret), "client_id": client_id}
    document["username"] = username
    if secret is None:
        target = directory / "auth_client.json"
        atomic_write(target, json.dumps(document).encode())
    else:
        assert age_recipient is not None
        target = directory / "auth_client.sops.json"
        Sops(env=worker_env(home)).encrypt(document, target, age_recipients=[age_recipient])
    return target


def shared_profile_run(
    server: Any, home: Path, *, workers: int, duration: float, age_key: Any = None
) -> dict[str, Any]:
    """Profile `soak` (resource owner; encrypted with its tokens in `token.sops.json` when `age_key` is
    given) logged in once, then hammered by `workers` processes for `duration` s against `server` (a
    `DevServer`). The workers' figures plus the server's: `refreshes`, `refresh_errors` (invalid_grant),
    `other_grants` (logins), `bounds` and `expiries` (see `refresh_bounds`, `expected_refreshes`)."""
    extra: dict[str, str] = {}
    if age_key is not None:
        client = server.clients["ro-secret"]
        secret, recipient = client.client_secret, age_key.recipient
        write_profile(
            home, server.issuer, client.client_id, server.username, secret=secret, age_recipient=recipient
        )
        extra["SOPS_AGE_KEY_FILE"] = age_key.identity_file
    else:
        write_profile(home, server.issuer, "ro-public", server.username)
    # Log in once with the password grant (the password is not stored); the workers then only refresh.
    Worker("seed", [], worker_env(home, SOAK_PASSWORD=server.password, **extra)).result(timeout=60)
    result = hammer_campaign(
        home, server.hello_url, workers=workers, duration=duration, before_start=server.reset_stats, **extra
    )
    stats = server.stats()
    result["refreshes"] = stats["by_grant"].get("refresh_token", 0)
    result["refresh_errors"] = stats["errors_by_grant"].get("refresh_token", 0)
    result["other_grants"] = stats["token_requests"] - result["refreshes"]
    result["bounds"] = refresh_bounds(duration, server.access_ttl)
    result["expiries"] = round(expected_refreshes(duration, server.access_ttl), 1)
    token_file = _store_token_path(home, encrypted=age_key is not None)
    result["token_file_mode"] = f"{_mode(token_file):04o}"
    result["stray_tmp"] = len(stray_temp_files(home))
    return result


def _store_token_path(home: Path, *, encrypted: bool) -> Path:
    return home / ".planet" / PROFILE / ("token.sops.json" if encrypted else "token.json")


def hammer_campaign(
    home: Path, url: str, *, workers: int, duration: float, before_start: Any, **extra: str
) -> dict[str, Any]:
    """`workers` processes call `url` through profile `soak` for `duration` s; returns their summed figures.

    `before_start()` is called once every worker is set up, just before they all start (reset counters).
    """
    env = worker_env(home, **extra)
    args = ["--profile", PROFILE, "--url", url, "--duration", str(duration)]
    procs = [Worker("hammer", args, env, stdin=True) for _ in range(workers)]
    try:
        for proc in procs:
            proc.expect_ready()
        before_start()
        for proc in procs:
            proc.send("GO")
        results = [proc.result(timeout=duration + 120) for proc in procs]
    finally:
        for proc in procs:
            if proc.process.poll() is None:
                proc.kill()
    total: dict[str, Any] = {"workers": workers, "duration": duration, "errors": []}
    exceptions: Counter[str] = Counter()
    for key in ("calls", "ok", "retried_after_401", "untyped"):
        total[key] = sum(item[key] for item in results)
    for item in results:
        exceptions.update(item["exceptions"])
        total["errors"] += item["errors"]
    total["exceptions"] = dict(exceptions)
    total["api_failures"] = total["calls"] - total["ok"]
    return total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="soak_workers")
    parser.add_argument("mode", choices=["init", "crash", "read", "seed", "hammer"])
    parser.add_argument("--store", choices=["file", "sops"], default="file")
    parser.add_argument("--salt", default="")
    parser.add_argument("--age-recipient")
    parser.add_argument("--kills", type=int, default=200)
    parser.add_argument("--max-sleep-ms", type=float, default=30.0)
    parser.add_argument("--time-limit", type=float, default=600.0)
    parser.add_argument("--ack-file", default="acks")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--profile", default=PROFILE)
    parser.add_argument("--url", default="")
    parser.add_argument("--duration", type=float, default=10.0)
    args = parser.parse_args(argv)
    if args.mode == "init":
        _initial_files(args.store == "sops", args.salt, args.age_recipient)
        result: dict[str, Any] = {"ok": True}
    else:
        result = {"crash": crash, "read": read, "seed": seed, "hammer": hammer}[args.mode](args)
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
