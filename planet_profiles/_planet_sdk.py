"""Stage "authenticate requests", for Planet's SDK: a `planet.Auth` that runs on a planet-profiles profile.

```python
import planet, planet_profiles

auth = planet_profiles.planet_sdk_auth("my-profile")      # or None: PL_AUTH_PROFILE, ... as open_profile
async with planet.Session(auth=auth) as session: ...      # the SDK's async clients
pl = planet.Planet(session=planet.Session(auth=auth))     # the SDK's sync client
```

The SDK (`planet` 3.x on PyPI, never a dependency of planet-profiles: it is imported here, on first use)
takes any `planet.Auth`, an `httpx.Auth` with login methods. Its own adapter for planet-auth contexts,
`planet.Auth._from_plauth(ctx)`, works with a planet-profiles `AuthContext` too (it calls
`ctx.request_authenticator().auth_flow(request)`), but httpx runs that generator on the event loop of the
SDK's `Session` (an `httpx.AsyncClient`), so a token refresh there stalls every other coroutine. The
adapter made here gives httpx the authenticator's own flows instead: `async_auth_flow` for the SDK's
`Session` (the refresh runs in a worker thread, one at a time per loop, single flight across threads and
processes as always) and `sync_auth_flow` for sync httpx clients. The SDK's login methods map to the
context's (`user_login` → `login`, `device_user_login_*` → `device_login_*`, `is_initialized` →
`request_authenticator_is_ready`, `ensure_initialized` → `ensure_request_authenticator_is_ready`).
"""

from __future__ import annotations

import functools
from collections.abc import AsyncGenerator, Generator
from typing import TYPE_CHECKING, Any, TypedDict

from ._context import AuthContext

if TYPE_CHECKING:
    import httpx
    import planet  # (the SDK ships no type information: `planet.Auth` is Any to mypy)
    from typing_extensions import Unpack

    from ._sops import Sops

__all__ = ["planet_sdk_auth"]


class _Selection(TypedDict, total=False):
    """`open_profile`'s keyword arguments."""

    client_id: str | None
    client_secret: str | None
    api_key: str | None
    save_token_file: bool
    use_env: bool
    use_configfile: bool
    sops: Sops | None
    token_cache_url: str | None


def planet_sdk_auth(profile: str | AuthContext | None = None, **selection: Unpack[_Selection]) -> planet.Auth:
    """A `planet.Auth` for `planet.Session(auth=…)`, authenticated by a planet-profiles profile.

    `profile` is a profile name, an `AuthContext` (from `open_profile` / `from_config`), or None for the
    selected credentials (`PL_AUTH_PROFILE`, … as `open_profile`); `selection` goes to `open_profile`
    (`client_id=`, `client_secret=`, `api_key=`, `save_token_file=`, …). Needs Planet's SDK
    (`pip install planet`).
    """
    adapter = _adapter_class()
    if isinstance(profile, AuthContext):
        if selection:
            raise TypeError(f"planet_sdk_auth(context) takes no other arguments, got {sorted(selection)}")
        return adapter(profile)
    from ._loader import open_profile

    return adapter(open_profile(profile, **selection))


@functools.cache
def _adapter_class() -> type[planet.Auth]:
    """The adapter, a subclass of `planet.Auth` (declared here so that `planet` is imported only on use)."""
    try:
        import planet
    except ModuleNotFoundError as exc:
        if exc.name != "planet":
            raise
        raise ModuleNotFoundError(
            "planet_sdk_auth needs Planet's SDK: pip install planet", name="planet"
        ) from None

    class PlanetSdkAuth(planet.Auth):  # type: ignore[misc]  # planet ships no type information
        """A `planet.Auth` backed by a planet-profiles `AuthContext` (see `planet_profiles._planet_sdk`)."""

        def __init__(self, context: AuthContext) -> None:
            self._context = context

        @property
        def context(self) -> AuthContext:
            return self._context

        # httpx calls these two; `auth_flow` is planet-auth's contract, for callers that use it directly.
        def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
            return self._context.request_authenticator().sync_auth_flow(request)

        def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
            return self._context.request_authenticator().async_auth_flow(request)

        def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
            return self._context.request_authenticator().auth_flow(request)

        def user_login(
            self, allow_open_browser: bool | None = False, allow_tty_prompt: bool | None = False
        ) -> None:
            self._context.login(
                allow_open_browser=bool(allow_open_browser), allow_tty_prompt=bool(allow_tty_prompt)
            )

        def device_user_login_initiate(self) -> dict[str, Any]:
            return self._context.device_login_initiate()

        def device_user_login_complete(self, login_initialization_info: dict[str, Any]) -> Any:
            return self._context.device_login_complete(login_initialization_info)

        def is_initialized(self) -> bool:
            return self._context.request_authenticator_is_ready()

        def ensure_initialized(
            self, allow_open_browser: bool | None = False, allow_tty_prompt: bool | None = False
        ) -> None:
            self._context.ensure_request_authenticator_is_ready(
                allow_open_browser=bool(allow_open_browser), allow_tty_prompt=bool(allow_tty_prompt)
            )

        def __repr__(self) -> str:
            return f"PlanetSdkAuth({self._context!r})"

    return PlanetSdkAuth
