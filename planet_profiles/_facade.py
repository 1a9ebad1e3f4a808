"""Compatibility facade: the client API of Planet's `planet_auth_utils`, served by planet-profiles.

The seed's documented client examples run unchanged. This module only translates names and arguments to
`planet_profiles`; it holds no logic of its own.
"""

from __future__ import annotations

from collections.abc import Mapping

from . import AuthContext as Auth

__all__ = ["Auth", "PlanetAuthFactory"]


def __dir__() -> list[str]:
    """The API (as `import planet_auth_utils` shows it), not `Any`, `Mapping` or `annotations`."""
    return sorted({name for name in globals() if name.startswith("__")} | set(__all__))


class PlanetAuthFactory:
    """Builds an `Auth` context, as planet-auth's factory of the same name does."""

    @staticmethod
    def initialize_auth_client_context(
        auth_profile_opt: str | None = None,
        auth_client_id_opt: str | None = None,
        auth_client_secret_opt: str | None = None,
        auth_api_key_opt: str | None = None,
        save_token_file: bool = True,
        use_env: bool = True,
        use_configfile: bool = True,
        token_cache_url: str | None = None,
    ) -> Auth:
        """Load the credentials the user selected, in the precedence of `planet_profiles.explain_selection()`:
        arguments > `PL_AUTH_PROFILE` > `PL_AUTH_CLIENT_ID`/`_SECRET` > `PL_API_KEY` > built-in default.
        `token_cache_url` (an addition of planet-profiles): the shared token cache, as for `open_profile`."""
        from . import open_profile  # on first use: `import planet_auth_utils` stays cheap

        return open_profile(
            auth_profile_opt,
            client_id=auth_client_id_opt,
            client_secret=auth_client_secret_opt,
            api_key=auth_api_key_opt,
            save_token_file=save_token_file,
            use_env=use_env,
            use_configfile=use_configfile,
            token_cache_url=token_cache_url,
        )

    @staticmethod
    def initialize_auth_client_context_from_custom_config(
        client_config: Mapping[str, object],
        profile_name: str,
        initial_token_data: Mapping[str, object] | None = None,
        save_token_file: bool = True,
        save_profile_config: bool = True,
        token_cache_url: str | None = None,
    ) -> Auth:
        """Build a context from an in-memory client config dict (`token_cache_url`: as above)."""
        from . import from_config

        return from_config(
            client_config,
            profile_name=profile_name,
            initial_token_data=initial_token_data,
            save_token_file=save_token_file,
            save_profile_config=save_profile_config,
            token_cache_url=token_cache_url,
        )
