"""Worker (P5): 50 threads (requests) and 200 coroutines (httpx.AsyncClient) share one context whose token
has expired; runs under either venv.

    python concurrency.py '{"config": {...}, "token": {...}, "url": URL, "threads": 50, "coroutines": 200}'

All threads and the event loop start together (a barrier). Prints one JSON line: `ok` (HTTP 200), `failed`
(any other status), `exceptions`, `seconds`. The driver counts the token requests at the server.
"""

from __future__ import annotations

import asyncio
import json
import sys
import threading
import time


def main() -> None:
    spec = json.loads(sys.argv[1])
    import httpx
    import requests

    import planet_auth_utils

    ctx = planet_auth_utils.PlanetAuthFactory.initialize_auth_client_context_from_custom_config(
        client_config=spec["config"],
        profile_name="bench-concurrency",
        initial_token_data=spec["token"],
        save_token_file=False,
        save_profile_config=False,
    )
    auth = ctx.request_authenticator()
    url = spec["url"]
    statuses: list[int] = []
    errors: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(spec["threads"] + 1)

    def worker() -> None:
        with requests.Session() as session:
            session.trust_env = False
            barrier.wait()
            try:
                status = session.get(url, auth=auth, timeout=30).status_code
            except Exception as exc:  # noqa: BLE001 - counted, reported by type
                with lock:
                    errors.append(type(exc).__name__)
                return
        with lock:
            statuses.append(status)

    async def coroutines() -> None:
        async with httpx.AsyncClient(
            timeout=30, trust_env=False, limits=httpx.Limits(max_connections=50)
        ) as client:

            async def one() -> None:
                try:
                    status = (await client.get(url, auth=auth)).status_code
                except Exception as exc:  # noqa: BLE001
                    errors.append(type(exc).__name__)
                    return
                statuses.append(status)

            await asyncio.gather(*(one() for _ in range(spec["coroutines"])))

    threads = [threading.Thread(target=worker) for _ in range(spec["threads"])]
    for thread in threads:
        thread.start()
    runner = threading.Thread(target=lambda: asyncio.run(coroutines()))
    barrier.wait()
    start = time.perf_counter()
    runner.start()
    for thread in [*threads, runner]:
        thread.join(timeout=120)
    seconds = time.perf_counter() - start
    ok = sum(status == 200 for status in statuses)
    print(
        json.dumps(
            {
                "ok": ok,
                "failed": len(statuses) - ok,
                "exceptions": len(errors),
                "exception_types": sorted(set(errors)),
                "seconds": seconds,
            }
        )
    )


if __name__ == "__main__":
    main()
