"""Worker (P4): what the authenticator adds to each request with a valid token; runs under either venv.

    python per_request.py '{"config": {...}, "token": {...}, "n": N, "repeats": R, "e2e": M}'

Isolated hook cost, per call, as each HTTP library invokes it, minus the same loop with no auth:
- requests: `auth(prepared_request)`, then the response hooks it registered (run for every response);
  baseline: the identity function.
- httpx sync: `flow = auth.sync_auth_flow(request); next(flow); flow.send(response)` to the end;
  baseline: `httpx.Auth()` (what httpx uses when no auth is given).
- httpx async: the same with `async_auth_flow`, `__anext__` / `asend`.
End to end with an in-process transport (no socket): `session.get` through a requests adapter that answers
200, and `httpx.Client` / `httpx.AsyncClient` on `httpx.MockTransport`, each with and without `auth=`.
Prints one JSON line: figure -> list of µs per request, one value per repeat.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Callable
from typing import Any

URL = "http://127.0.0.1:9/api/hello"


def per_call(loop: Callable[[int], float], n: int) -> float:
    return loop(n) / n * 1e6


def main() -> None:
    spec = json.loads(sys.argv[1])
    import httpx
    import requests
    import requests.adapters

    import planet_auth_utils

    ctx = planet_auth_utils.PlanetAuthFactory.initialize_auth_client_context_from_custom_config(
        client_config=spec["config"],
        profile_name="bench-memory",
        initial_token_data=spec["token"],
        save_token_file=False,
        save_profile_config=False,
    )
    auth = ctx.request_authenticator()
    n, repeats = spec["n"], spec["repeats"]

    prepared = requests.Request("GET", URL).prepare()
    answer = requests.Response()
    answer.status_code = 200
    answer.request = prepared
    hooks = prepared.hooks["response"]

    def requests_loop(fn: Callable[[Any], Any]) -> Callable[[int], float]:
        def loop(count: int) -> float:
            start = time.perf_counter()
            for _ in range(count):
                fn(prepared)
                for hook in hooks:
                    hook(answer)
                hooks.clear()
            return time.perf_counter() - start

        return loop

    request = httpx.Request("GET", URL)
    response = httpx.Response(200, request=request)

    def sync_loop(a: Any) -> Callable[[int], float]:
        def loop(count: int) -> float:
            flow_of = a.sync_auth_flow
            start = time.perf_counter()
            for _ in range(count):
                flow = flow_of(request)
                next(flow)
                try:
                    flow.send(response)
                except StopIteration:
                    pass
            return time.perf_counter() - start

        return loop

    def async_loop(a: Any) -> Callable[[int], float]:
        async def run(count: int) -> float:
            flow_of = a.async_auth_flow
            start = time.perf_counter()
            for _ in range(count):
                flow = flow_of(request)
                await flow.__anext__()
                try:
                    await flow.asend(response)
                except StopAsyncIteration:
                    pass
            return time.perf_counter() - start

        return lambda count: asyncio.run(run(count))

    class Answer200(requests.adapters.BaseAdapter):
        def send(self, req: Any, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
            resp = requests.Response()
            resp.status_code = 200
            resp._content = b"{}"
            resp.request = req
            resp.url = req.url
            return resp

        def close(self) -> None:
            pass

    session = requests.Session()
    session.trust_env = False
    session.mount("http://", Answer200())
    client = httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(200, json={})))

    def e2e_requests(with_auth: bool) -> Callable[[int], float]:
        kwargs: dict[str, Any] = {"auth": auth} if with_auth else {}

        def loop(count: int) -> float:
            start = time.perf_counter()
            for _ in range(count):
                session.get(URL, **kwargs)
            return time.perf_counter() - start

        return loop

    def e2e_httpx(with_auth: bool) -> Callable[[int], float]:
        kwargs: dict[str, Any] = {"auth": auth} if with_auth else {}

        def loop(count: int) -> float:
            start = time.perf_counter()
            for _ in range(count):
                client.get(URL, **kwargs)
            return time.perf_counter() - start

        return loop

    def e2e_async(with_auth: bool) -> Callable[[int], float]:
        kwargs: dict[str, Any] = {"auth": auth} if with_auth else {}

        async def run(count: int) -> float:
            async with httpx.AsyncClient(
                transport=httpx.MockTransport(lambda r: httpx.Response(200, json={}))
            ) as aclient:
                start = time.perf_counter()
                for _ in range(count):
                    await aclient.get(URL, **kwargs)
                return time.perf_counter() - start

        return lambda count: asyncio.run(run(count))

    no_auth = httpx.Auth()
    isolated = {
        "requests": (requests_loop(auth), requests_loop(lambda r: r)),
        "httpx sync": (sync_loop(auth), sync_loop(no_auth)),
        "httpx async": (async_loop(auth), async_loop(no_auth)),
    }
    e2e = {
        "e2e requests": (e2e_requests(True), e2e_requests(False)),
        "e2e httpx sync": (e2e_httpx(True), e2e_httpx(False)),
        "e2e httpx async": (e2e_async(True), e2e_async(False)),
    }
    out: dict[str, list[float]] = {}
    for figures, count in ((isolated, n), (e2e, spec["e2e"])):
        for name, (with_auth, without) in figures.items():
            with_auth(count // 10)  # warm up
            without(count // 10)
            for _ in range(repeats):
                a, b = per_call(with_auth, count), per_call(without, count)
                out.setdefault(name, []).append(a - b)
                out.setdefault(f"{name} total", []).append(a)
                out.setdefault(f"{name} base", []).append(b)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
