"""The shared token cache on Redis (`planet_profiles._token_cache`), against a real `redis-server` and the
real OIDC dev server.

Fleets: 4 processes x 4 threads, each process with its own HOME, share one profile through Redis: token
requests stay about one per expiry (not one per process), with client credentials and with rotating refresh
tokens (0 `invalid_grant`), and no call fails when Redis is killed mid-run; sharing resumes when it is back.
Single cases: a SIGKILLed lease holder stalls others no longer than the lease; Redis holds nothing in clear;
an entry that does not decrypt is a miss; no Redis command per request while the token is fresh; a wrong
password, a TLS mismatch or no server at all give one warning and the local path.
"""

from __future__ import annotations

import json
import logging
import re
import time
from pathlib import Path
from typing import Any

import pytest
import requests

import planet_profiles
from planet_profiles import ConfigError
from planet_profiles._token_cache import PREFIX, _Sealer, shared_cache
from tests.fixtures_devserver import DevServer
from tests.fixtures_redis import RedisServer, free_port
from tests.fleet_workers import PROFILE, Worker, fleet_run, worker_env, write_profile
from tests.soak_workers import expected_refreshes

pytestmark = pytest.mark.integration

ACCESS_TTL = 4
PROCESSES, THREADS = 4, 4
KEY_PATTERN = re.compile(rf"^{re.escape(PREFIX)}:{PROFILE}:[0-9a-f]{{32}}$")


def expiries(duration: float) -> float:
    """Token lifetimes in `duration` s of `ACCESS_TTL` s tokens, plus the one at the start."""
    return expected_refreshes(duration, ACCESS_TTL)


def cc_config(server: DevServer) -> dict[str, Any]:
    return server.profile("oidc_client_credentials_secret", "cc-secret")


def ro_config(server: DevServer) -> dict[str, Any]:
    config = server.profile("oidc_resource_owner_secret", "ro-secret")
    config["username"] = server.username  # no password: a refused refresh token cannot hide behind a re-login
    return config


def token_keys(redis_server: RedisServer) -> dict[bytes, bytes]:
    return {k: v for k, v in redis_server.dump().items() if not k.endswith(b":lock")}


def open_fleet_profile(home: Path, config: dict[str, Any], url: str | None) -> planet_profiles.AuthContext:
    write_profile(home, config)
    return planet_profiles.open_profile(PROFILE, token_cache_url=url)


def fleet_of_4x4(
    server: DevServer, config: dict[str, Any], root: Path, redis: RedisServer, duration: float, **kw: Any
) -> dict[str, Any]:
    """`fleet_run`: 4 processes x 4 threads sharing `config` through `redis` for `duration` s."""
    return fleet_run(
        server,
        root / "fleet",
        config,
        processes=PROCESSES,
        threads=THREADS,
        duration=duration,
        cache_url=redis.url,
        **kw,
    )


# --- fleets ------------------------------------------------------------------------------------------


def test_4_processes_x_4_threads_make_one_token_request_per_expiry(
    devserver_factory: Any, redis_server: RedisServer, tmp_path: Path
) -> None:
    server: DevServer = devserver_factory(access_ttl=ACCESS_TTL)
    duration = 12.0
    result = fleet_of_4x4(server, cc_config(server), tmp_path, redis_server, duration)
    limit = expiries(duration) + 2
    print(f"\nfleet: {result['token_requests']} token requests, limit {limit:.1f}, {result['calls']} calls")
    assert result["exceptions"] == {}, result["errors"]
    assert result["failed"] == 0, result
    assert result["token_requests"] <= limit, result  # without the cache: ~ PROCESSES x expiries
    assert result["calls"] >= PROCESSES * THREADS * duration  # everybody kept calling
    entries = token_keys(redis_server)
    assert len(entries) == 1 and KEY_PATTERN.match(next(iter(entries)).decode()), entries


def test_rotating_refresh_tokens_are_refreshed_once_per_expiry_fleet_wide(
    devserver_factory: Any, redis_server: RedisServer, tmp_path: Path, hermetic_env: Path
) -> None:
    """A user profile logged in once (here, in the test process): the fleet's processes start with empty
    HOMEs, take the token from Redis, and one of them refreshes per expiry; a second refresh with a rotated
    refresh token would fail with `invalid_grant` (and revoke the grant)."""
    server: DevServer = devserver_factory(access_ttl=ACCESS_TTL)
    ctx = open_fleet_profile(hermetic_env, ro_config(server), redis_server.url)
    ctx.login(password=server.password)
    duration = 12.0
    result = fleet_of_4x4(server, ro_config(server), tmp_path, redis_server, duration)
    refreshes = result["by_grant"].get("refresh_token", 0)
    print(
        f"\nfleet: {refreshes} refreshes, {result['token_requests']} token requests, calls {result['calls']}"
    )
    assert result["exceptions"] == {}, result["errors"]
    assert result["failed"] == 0, result
    assert result["token_errors"] == {}, result  # no invalid_grant
    assert result["token_requests"] == refreshes  # nobody logged in again
    assert refreshes <= expiries(duration) + 2, result


def test_a_refresh_token_rotated_while_redis_was_away_is_not_sent_again(
    devserver_factory: Any, redis_server: RedisServer, hermetic_env: Path
) -> None:
    """Redis keeps the login's token; this host then renews without Redis (as when it was unreachable): the
    server rotates the refresh token, and only the token file holds the new one. Once both tokens are due,
    the renewal uses the newer one of the two, not Redis's consumed one (`invalid_grant`, a revoked grant)."""
    server: DevServer = devserver_factory(access_ttl=ACCESS_TTL)
    ctx = open_fleet_profile(hermetic_env, ro_config(server), redis_server.url)
    ctx.login(password=server.password)
    assert ctx.token_manager is not None and ctx.token_manager.shared is not None
    first = ctx.token_manager.shared.get()
    assert first is not None  # the login went to Redis
    alone = planet_profiles.open_profile(PROFILE, token_cache_url="")  # renews as without Redis
    assert alone.token_manager is not None
    time.sleep(1.1)  # (a later `_iat`: whole seconds)
    renewed = alone.token_manager.renew_if_current(first.access_token)
    assert renewed.refresh_token != first.refresh_token
    time.sleep(max(0.0, (renewed.expires_at or 0) - time.time()) + 0.1)  # both due now
    server.reset_stats()
    back = planet_profiles.open_profile(PROFILE, token_cache_url=redis_server.url)
    assert requests.get(server.hello_url, auth=back.request_authenticator(), timeout=10).status_code == 200
    stats = server.stats()
    assert stats["by_grant"] == {"refresh_token": 1} and stats["token_errors"] == 0


def test_redis_killed_mid_run_fails_no_call_and_sharing_resumes(
    devserver_factory: Any, redis_server: RedisServer, tmp_path: Path
) -> None:
    server: DevServer = devserver_factory(access_ttl=ACCESS_TTL)
    # Redis is down from 3 s to 7 s; with the back-off (1, 2, 4 s) every process is back on it by 12 s
    duration, back, last_phase = 22.0, 7.0, 10.0
    snapshot: dict[str, int] = {}
    events = [
        (3.0, redis_server.kill),
        (back, redis_server.start),
        (duration - last_phase, lambda: snapshot.update(before=server.stats()["token_requests"])),
    ]
    result = fleet_of_4x4(server, cc_config(server), tmp_path, redis_server, duration, events=events)
    late = result["token_requests"] - snapshot["before"]
    warnings = [log.count("is unavailable") for log in result["logs"]]
    print(f"\n{result['token_requests']} token requests, {late} in the last {last_phase:.0f} s", warnings)
    assert result["exceptions"] == {}, result["errors"]
    assert result["failed"] == 0, result
    assert all(count <= 1 for count in warnings), result["logs"]  # one warning per outage, not per request
    assert sum(warnings) >= 1, result["logs"]  # and the outage was noticed
    # sharing resumed: the last phase needs ~ one request per expiry, not one per process and expiry
    assert late <= expiries(last_phase) + 2 < PROCESSES * (expiries(last_phase) - 1), (late, result)
    assert len(token_keys(redis_server)) == 1


def test_a_killed_lease_holder_stalls_the_others_no_longer_than_the_lease(
    devserver_factory: Any, redis_server: RedisServer, tmp_path: Path, hermetic_env: Path, monkeypatch: Any
) -> None:
    server: DevServer = devserver_factory(access_ttl=ACCESS_TTL)
    lease = 3.0
    monkeypatch.setenv("PL_AUTH_TOKEN_CACHE_LEASE", str(lease))
    holder_home = tmp_path / "holder"
    write_profile(holder_home, cc_config(server))
    env = worker_env(
        holder_home, PL_AUTH_TOKEN_CACHE_URL=redis_server.url, PL_AUTH_TOKEN_CACHE_LEASE=str(lease)
    )
    holder = Worker("hold", {}, env)
    holder.expect_ready()
    held_at = time.monotonic()
    assert any(key.endswith(b":lock") for key in redis_server.dump())
    holder.kill()
    ctx = open_fleet_profile(hermetic_env, cc_config(server), redis_server.url)
    server.reset_stats()
    response = requests.get(server.hello_url, auth=ctx.request_authenticator(), timeout=30)
    waited = time.monotonic() - held_at
    assert response.status_code == 200
    assert server.stats()["token_requests"] == 1
    assert lease - 0.5 <= waited <= lease + 1.5, waited  # it honoured the lease, and no longer


# --- what Redis holds ----------------------------------------------------------------------------------


def _secrets_of(token: planet_profiles.Token) -> list[str]:
    values = [token.access_token, token.refresh_token or "", token.id_token or ""]
    parts = [part for value in values for part in value.split(".") if len(part) >= 8]  # JWT segments too
    return [value for value in values + parts if value]


def test_redis_holds_no_token_or_secret_in_clear(
    devserver_factory: Any, redis_server: RedisServer, hermetic_env: Path
) -> None:
    server: DevServer = devserver_factory(access_ttl=ACCESS_TTL)
    cc = open_fleet_profile(hermetic_env, cc_config(server), redis_server.url)
    cc_token = cc.token_manager.token()  # type: ignore[union-attr]
    write_profile(hermetic_env, ro_config(server), name="user")
    user = planet_profiles.open_profile("user", token_cache_url=redis_server.url)
    user_token = user.login(password=server.password).token
    assert user_token is not None and user_token.refresh_token
    dump = redis_server.dump()
    entries = token_keys(redis_server)
    assert len(entries) == 2, dump
    forbidden = _secrets_of(cc_token) + _secrets_of(user_token)
    forbidden += [cc_config(server)["client_secret"], ro_config(server)["client_secret"], server.password]
    for key, value in dump.items():
        for secret in forbidden:
            assert secret.encode() not in key + value, (key, secret[:6])
        assert json.loads(value)["alg"] == "A256GCM"


def test_plaintext_only_with_the_opt_in(
    devserver_factory: Any, redis_server: RedisServer, hermetic_env: Path, monkeypatch: Any
) -> None:
    server: DevServer = devserver_factory(access_ttl=ACCESS_TTL)
    monkeypatch.setenv("PL_AUTH_TOKEN_CACHE_PLAINTEXT", "1")
    ctx = open_fleet_profile(hermetic_env, cc_config(server), redis_server.url)
    token = ctx.token_manager.token()  # type: ignore[union-attr]
    (value,) = token_keys(redis_server).values()
    assert json.loads(value)["token"]["access_token"] == token.access_token


def test_an_entry_that_does_not_decrypt_is_a_cache_miss(
    devserver_factory: Any, redis_server: RedisServer, hermetic_env: Path, caplog: Any
) -> None:
    """Another key's ciphertext, or garbage, at the profile's entry: a new grant, no error, and the entry is
    replaced by one this key reads."""
    server: DevServer = devserver_factory(access_ttl=ACCESS_TTL)
    write_profile(hermetic_env, cc_config(server))
    ctx = planet_profiles.open_profile(PROFILE, token_cache_url=redis_server.url)
    cache = shared_cache(ctx.auth_client(), PROFILE, redis_server.url)
    assert cache is not None
    now = int(time.time())
    forged = {"access_token": "planted", "token_type": "Bearer", "_iat": now, "_exp": now + 600}
    other = _Sealer(b"another key of at least thirty-two bytes", salt=b"x")
    for planted in (other.seal(forged, cache.key.encode()), b"not json", b'{"v": 1, "alg": "A256GCM"}'):
        redis_server.client().set(cache.key, planted)
        fresh = planet_profiles.open_profile(PROFILE, token_cache_url=redis_server.url, save_token_file=False)
        server.reset_stats()
        with caplog.at_level(logging.INFO, logger="planet_profiles.token_cache"):
            response = requests.get(server.hello_url, auth=fresh.request_authenticator(), timeout=10)
        assert response.status_code == 200
        assert server.stats()["token_requests"] == 1
        assert cache.get() is not None and cache.get().access_token != "planted"  # type: ignore[union-attr]
    assert "does not decrypt" in caplog.text


def test_no_redis_command_per_request_while_the_token_is_fresh(
    devserver_factory: Any, redis_server: RedisServer, hermetic_env: Path
) -> None:
    server: DevServer = devserver_factory()
    ctx = open_fleet_profile(hermetic_env, cc_config(server), redis_server.url)
    auth = ctx.request_authenticator()
    session = requests.Session()
    session.trust_env = False
    assert session.get(server.hello_url, auth=auth, timeout=10).status_code == 200
    before = redis_server.command_counts()
    assert before.get("set", 0) >= 1  # the first token went through Redis
    for _ in range(100):
        assert session.get(server.hello_url, auth=auth, timeout=10).status_code == 200
    assert redis_server.command_counts() == before


def test_a_new_replica_takes_the_token_from_redis(
    devserver_factory: Any, redis_server: RedisServer, tmp_path: Path, monkeypatch: Any
) -> None:
    """Through the facade (the seed's factory, plus `token_cache_url`): a second HOME gets the first one's
    token without a token request, and `request_authenticator_is_ready()` says so before any request."""
    import planet_auth_utils

    server: DevServer = devserver_factory()
    first, second = tmp_path / "a", tmp_path / "b"
    for home in (first, second):
        write_profile(home, ro_config(server))
    monkeypatch.setenv("HOME", str(first))
    factory = planet_auth_utils.PlanetAuthFactory
    ctx = factory.initialize_auth_client_context(PROFILE, token_cache_url=redis_server.url)
    ctx.login(password=server.password)
    monkeypatch.setenv("HOME", str(second))
    monkeypatch.setenv("PL_AUTH_TOKEN_CACHE_URL", redis_server.url)
    server.reset_stats()
    ctx2 = factory.initialize_auth_client_context(PROFILE)  # the seed's call
    assert ctx2.request_authenticator_is_ready()
    assert requests.get(server.hello_url, auth=ctx2.request_authenticator(), timeout=10).status_code == 200
    assert server.stats()["token_requests"] == 0


# --- failures are warnings, and the local path --------------------------------------------------------


def _local_path_works(server: DevServer, hermetic_env: Path, url: str, caplog: Any) -> list[str]:
    """Two renewals through an unusable cache: the calls succeed, the token is saved locally, and the
    warnings are returned."""
    with caplog.at_level(logging.WARNING, logger="planet_profiles.token_cache"):
        ctx = open_fleet_profile(hermetic_env, cc_config(server), url)
        started = time.monotonic()
        assert requests.get(server.hello_url, auth=ctx.request_authenticator(), timeout=10).status_code == 200
        assert time.monotonic() - started < 3.0  # bounded timeouts
        ctx.token_manager.renew_if_current(ctx.token_manager.cached().access_token)  # type: ignore[union-attr]
        assert requests.get(server.hello_url, auth=ctx.request_authenticator(), timeout=10).status_code == 200
    assert (hermetic_env / ".planet" / PROFILE / "token.json").exists()
    cache = "planet_profiles.token_cache"
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING and r.name == cache]


def test_a_wrong_password_is_one_warning_and_the_local_path(
    devserver_factory: Any,
    redis_server: RedisServer,
    hermetic_env: Path,
    tmp_path: Path,
    caplog: Any,
    monkeypatch: Any,
) -> None:
    server: DevServer = devserver_factory()
    redis_server.kill()
    redis_server.start(password="the-right-one")
    password_file = tmp_path / "redis-password"
    password_file.write_text("a-wrong-one\n")
    monkeypatch.setenv("PL_AUTH_TOKEN_CACHE_PASSWORD_FILE", str(password_file))
    warnings = _local_path_works(server, hermetic_env, redis_server.url, caplog)
    assert len(warnings) == 1 and "password" in warnings[0], warnings
    assert "a-wrong-one" not in caplog.text
    assert redis_server.dump() == {}
    password_file.write_text("the-right-one\n")  # and with the right one, the token is shared
    write_profile(hermetic_env, cc_config(server), name="other")
    planet_profiles.open_profile("other", token_cache_url=redis_server.url).token_manager.token()  # type: ignore[union-attr]
    assert len(token_keys(redis_server)) == 1


def test_tls_against_a_plain_server_is_one_warning_and_the_local_path(
    devserver_factory: Any, redis_server: RedisServer, hermetic_env: Path, caplog: Any
) -> None:
    server: DevServer = devserver_factory()
    url = redis_server.url.replace("redis://", "rediss://")
    warnings = _local_path_works(server, hermetic_env, url, caplog)
    assert len(warnings) == 1 and "TLS" in warnings[0], warnings
    assert redis_server.dump() == {}


def test_no_server_at_all_is_one_warning_and_the_local_path(
    devserver_factory: Any, hermetic_env: Path, caplog: Any
) -> None:
    server: DevServer = devserver_factory()
    warnings = _local_path_works(server, hermetic_env, f"redis://127.0.0.1:{free_port()}/0", caplog)
    assert len(warnings) == 1 and "unavailable" in warnings[0], warnings


# --- keys and settings ------------------------------------------------------------------------------


def test_keys_differ_by_client_scope_audience_and_server(
    devserver: DevServer, redis_server: RedisServer
) -> None:
    from planet_profiles._clients import make_client
    from planet_profiles._config import parse_config

    def key(name: str = PROFILE, **changes: Any) -> str:
        client = make_client(parse_config({**cc_config(devserver), **changes}))
        cache = shared_cache(client, name, redis_server.url)
        assert cache is not None
        return cache.key

    base = key()
    assert KEY_PATTERN.match(base)
    assert key() == base  # stable
    variants = [
        key(client_id="cc-secret-post"),
        key(scopes=["api.read", "api.write"]),
        key(audiences=["https://api.example"]),
        key(auth_server="https://other.example"),
        key(client_secret="another secret"),  # another key: another entry, never a fight over one
        key(name="other"),
    ]
    assert len({base, *variants}) == len(variants) + 1


def test_a_private_key_file_is_key_material_where_the_profile_finds_it(
    devserver: DevServer, redis_server: RedisServer, tmp_path: Path, monkeypatch: Any
) -> None:
    """A `*_pubkey` profile's cache key comes from its private key, read as its signer reads it: a relative
    `client_privkey_file` is relative to the profile's directory, not the working directory (else both
    profiles below would derive their key from nothing secret, and share one entry)."""
    from planet_profiles._clients import make_client
    from planet_profiles._config import parse_config

    config = devserver.profile("oidc_client_credentials_pubkey", "cc-pubkey", client_privkey_file="key.pem")
    keys = []
    for team in ("a", "b"):
        pem = f"-----BEGIN PRIVATE KEY-----\n{team * 4}\n"  # (read as bytes; never parsed here)
        (tmp_path / team).mkdir()
        (tmp_path / team / "key.pem").write_text(pem)
        client = make_client(parse_config(config), file=str(tmp_path / team / "auth_client.json"))
        cache = shared_cache(client, PROFILE, redis_server.url)
        assert cache is not None
        keys.append(cache.key)
    assert keys[0] != keys[1]
    (tmp_path / "c").mkdir()
    monkeypatch.chdir(tmp_path / "a")  # a key.pem in the working directory is not the profile's
    missing = make_client(parse_config(config), file=str(tmp_path / "c" / "auth_client.json"))
    with pytest.raises(ConfigError) as caught:
        shared_cache(missing, PROFILE, redis_server.url)
    assert caught.value.key == "client_privkey_file"


def test_settings(
    devserver: DevServer, redis_server: RedisServer, tmp_path: Path, monkeypatch: Any, caplog: Any
) -> None:
    from planet_profiles._clients import make_client
    from planet_profiles._config import parse_config

    secret_client = make_client(parse_config(cc_config(devserver)))
    public_client = make_client(parse_config(devserver.profile("oidc_resource_owner", "ro-public")))
    with pytest.raises(ConfigError, match="PL_AUTH_TOKEN_CACHE_URL.*redis://"):
        shared_cache(secret_client, PROFILE, "http://u:pw@127.0.0.1:1/0")
    monkeypatch.setenv("PL_AUTH_TOKEN_CACHE_URL", redis_server.url)
    assert shared_cache(secret_client, PROFILE, "") is None  # "" turns it off, whatever the environment says
    monkeypatch.delenv("PL_AUTH_TOKEN_CACHE_URL")
    monkeypatch.setenv("PL_AUTH_TOKEN_CACHE_PASSWORD_FILE", str(tmp_path / "missing"))
    with pytest.raises(ConfigError, match="PL_AUTH_TOKEN_CACHE_PASSWORD_FILE"):
        shared_cache(secret_client, PROFILE, redis_server.url)
    monkeypatch.delenv("PL_AUTH_TOKEN_CACHE_PASSWORD_FILE")
    monkeypatch.setenv("PL_AUTH_TOKEN_CACHE_LEASE", "forever")
    with pytest.raises(ConfigError, match="PL_AUTH_TOKEN_CACHE_LEASE"):
        shared_cache(secret_client, PROFILE, redis_server.url)
    monkeypatch.delenv("PL_AUTH_TOKEN_CACHE_LEASE")
    # a public client has no secret to derive a key from: local tokens and a warning, unless a key file is set
    with caplog.at_level(logging.WARNING, logger="planet_profiles.token_cache"):
        assert shared_cache(public_client, PROFILE, redis_server.url) is None
    assert "PL_AUTH_TOKEN_CACHE_KEY_FILE" in caplog.text
    key_file = tmp_path / "cache-key"
    key_file.write_text("short")
    monkeypatch.setenv("PL_AUTH_TOKEN_CACHE_KEY_FILE", str(key_file))
    with pytest.raises(ConfigError, match="fewer than 32"):
        shared_cache(public_client, PROFILE, redis_server.url)
    key_file.write_text("0123456789abcdef0123456789abcdef0123456789=\n")
    assert shared_cache(public_client, PROFILE, redis_server.url) is not None
    assert "pw" not in repr(shared_cache(secret_client, PROFILE, redis_server.url.replace("//", "//:pw@")))
