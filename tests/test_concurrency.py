"""One refresh for any number of threads and coroutines (SECURITY TOK-03, TOK-04), against the real server."""

from __future__ import annotations

import asyncio
import threading
import time

import httpx
import pytest
import requests

import planet_profiles
from tests.fixtures_devserver import DevServer

pytestmark = pytest.mark.integration


def _expired_context(server: DevServer) -> tuple[planet_profiles.AuthContext, str]:
    """A client-credentials context seeded with a real token that has expired at the API too."""
    config = server.profile("oidc_client_credentials_secret", "cc-secret")
    warmup = planet_profiles.from_config(config, profile_name="warmup", save_token_file=False)
    manager = warmup.token_manager
    assert manager is not None
    old = manager.token()
    assert requests.get(server.hello_url, auth=warmup.request_authenticator(), timeout=10).status_code == 200
    time.sleep(max(0.0, (old.expires_at or 0) - time.time()) + 1.1)  # let it expire at the server as well
    rejected = requests.get(
        server.hello_url, headers={"Authorization": f"Bearer {old.access_token}"}, timeout=10
    )
    assert rejected.status_code == 401  # the API really refuses it: a request sent with it would fail
    ctx = planet_profiles.from_config(
        config, profile_name="shared", initial_token_data=old.data, save_token_file=False
    )
    return ctx, old.access_token


def test_50_threads_and_200_coroutines_make_one_token_request(devserver_factory) -> None:  # type: ignore[no-untyped-def]
    server: DevServer = devserver_factory(access_ttl=5)  # the renewed token must outlive the 250 calls
    ctx, old_access_token = _expired_context(server)
    auth = ctx.request_authenticator()
    server.reset_stats()

    statuses: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(51)

    def worker() -> None:
        barrier.wait()
        status = requests.get(server.hello_url, auth=auth, timeout=30).status_code
        with lock:
            statuses.append(status)

    async def coroutines() -> list[int]:
        async with httpx.AsyncClient(
            auth=auth, timeout=30, limits=httpx.Limits(max_connections=50)
        ) as client:
            responses = await asyncio.gather(*(client.get(server.hello_url) for _ in range(200)))
        return [r.status_code for r in responses]

    threads = [threading.Thread(target=worker) for _ in range(50)]
    for thread in threads:
        thread.start()
    async_result: list[int] = []
    runner = threading.Thread(target=lambda: async_result.extend(asyncio.run(coroutines())))
    barrier.wait()
    runner.start()
    for thread in [*threads, runner]:
        thread.join(timeout=60)

    assert len(statuses) == 50 and len(async_result) == 200
    assert set(statuses) == {200} and set(async_result) == {200}  # none went out with the expired token
    stats = server.stats()
    assert stats["token_requests"] == 1, stats
    assert ctx.token_manager is not None
    assert ctx.token_manager.cached().access_token != old_access_token  # type: ignore[union-attr]
