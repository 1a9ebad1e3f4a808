"""Cross-process refresh (SECURITY TOK-05, TOK-06): 8 processes share one profile and its token file.

The real dev server issues access tokens for 2 s and rotates the refresh token on every use; reusing a
rotated one fails with `invalid_grant` and revokes the grant. Each worker process calls the protected API
through `open_profile("soak").request_authenticator()` in a tight loop. The lock file beside the token file
must make one process refresh per expiry while the others pick the new token up from disk: no
`invalid_grant`, no failed call, and about as many refreshes as expiries, not eight times as many.
`PLANET_PROFILES_SOAK=1` runs 60 s instead of 10 s (`make soak` runs the same through `bench/soak.py`).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures_devserver import DevServer
from tests.fixtures_keys import AgeKey
from tests.soak_workers import PROFILE, shared_profile_run, soak_mode, write_profile

pytestmark = pytest.mark.integration

ACCESS_TTL = 2
WORKERS = 8


@pytest.mark.parametrize("encrypted", [False, True], ids=["token.json", "token.sops.json"])
def test_eight_processes_share_one_refresh_per_expiry(
    devserver_factory: Any, hermetic_env: Path, age_key: AgeKey, encrypted: bool
) -> None:
    server: DevServer = devserver_factory(access_ttl=ACCESS_TTL)
    duration = 60.0 if soak_mode() else (5.0 if encrypted else 10.0)
    result = shared_profile_run(
        server, hermetic_env, workers=WORKERS, duration=duration, age_key=age_key if encrypted else None
    )
    print(f"\n{WORKERS} processes x {duration:.0f} s:", {k: v for k, v in result.items() if k != "errors"})

    assert result["exceptions"] == {}, result["errors"]  # includes corrupt token reads (TokenFileError)
    assert result["api_failures"] == 0, result
    assert result["refresh_errors"] == 0, result  # no rotated refresh token was used twice (invalid_grant)
    assert result["other_grants"] == 0, result  # nobody had to log in again
    fewest, most = result["bounds"]
    assert fewest <= result["refreshes"] <= most, result  # ~ one per expiry, not one per process
    assert result["calls"] >= WORKERS * duration  # every worker kept calling (even on a busy CI)
    assert result["token_file_mode"] == "0600"
    assert result["stray_tmp"] == 0  # no write was interrupted here


def test_a_refused_refresh_token_is_not_sent_again(devserver_factory: Any, hermetic_env: Path) -> None:
    """Once the server said `invalid_grant`, later requests fail with `LoginRequiredError` at once instead of
    sending the same refresh token again (SECURITY TOK-03: no hammering). Without the lock file above, every
    call of every worker did that: 7478 refused refreshes in 10 s."""
    import requests

    import planet_profiles
    from planet_profiles import LoginRequiredError
    from planet_profiles._tokens import FileTokenStore, Token

    server: DevServer = devserver_factory(access_ttl=ACCESS_TTL)
    write_profile(hermetic_env, server.issuer, "ro-public", server.username)
    past = int(time.time()) - 60
    stale = {"access_token": "expired", "refresh_token": "revoked-or-unknown", "_iat": past, "_exp": past + 2}
    FileTokenStore(hermetic_env / ".planet" / PROFILE / "token.json").save(Token(stale))
    auth = planet_profiles.open_profile(PROFILE).request_authenticator()
    server.reset_stats()
    for _ in range(5):
        with pytest.raises(LoginRequiredError):
            requests.get(server.hello_url, auth=auth, timeout=10)
    assert server.stats()["by_grant"].get("refresh_token", 0) == 1
