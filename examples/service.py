"""A service that calls a protected API with a profile from a team's GitOps repo checkout.

Deployment sets, and the code never names a file or a secret:

    PL_AUTH_PROFILE_PATH=/srv/team-profiles/profiles   # read-only checkout of the team repo
    PL_AUTH_PROFILE=billing-service                     # which profile this service uses
    SOPS_AGE_KEY_FILE=/run/secrets/age-key.txt          # the service's age identity
    API_URL=https://api.example.com/things              # what to call

The profile (`auth_client.sops.json`) is decrypted in memory; the token is kept in the service user's
`~/.planet/<profile>/`, encrypted to the service's own key, and renewed before it expires.
"""

from __future__ import annotations

import os
import sys

import requests

import planet_auth_utils


def main() -> int:
    api_url = os.environ["API_URL"]
    calls = int(os.environ.get("CALLS", "3"))
    auth_ctx = planet_auth_utils.PlanetAuthFactory.initialize_auth_client_context()
    source = auth_ctx.source
    location = auth_ctx.location
    print(
        f"profile {auth_ctx.profile_name()} ({source.origin if source else '?'}), "
        f"file {location.file if location else '-'}"
    )
    with requests.Session() as session:
        for number in range(1, calls + 1):
            answer = session.get(api_url, auth=auth_ctx.request_authenticator(), timeout=30)
            print(f"call {number}: HTTP {answer.status_code} {answer.text.strip()}")
            if answer.status_code != 200:
                return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
