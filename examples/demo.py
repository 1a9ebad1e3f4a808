"""`make demo`: the planet-profiles pipeline end to end on the embedded default.

1. start the local OIDC server + protected API (devserver/, npm oidc-provider),
2. generate an age key (pyrage),
3. scaffold a team repo and a client-credentials profile with the copier templates (only the secret
   encrypted by sops, in memory),
4. run the pre-commit hooks on it with no key at hand (what a commit and CI do),
5. load it through the seed API `PlanetAuthFactory.initialize_auth_client_context` (decrypted in memory),
6. call the protected API with requests, httpx and httpx async,
7. log in with an interactive profile (device code, RFC 8628), approved by the demo itself as the user.

Everything is written below `.demo/` (its own HOME, so your `~/.planet` is never touched).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEMO = REPO / ".demo"
sys.path.insert(0, str(REPO / "devserver"))

from headless import approve_device  # noqa: E402
from launch import start_devserver  # noqa: E402


def step(number: int, text: str) -> None:
    print(f"\n[{number}] {text}", flush=True)


def main() -> int:
    shutil.rmtree(DEMO, ignore_errors=True)
    DEMO.mkdir()
    home = DEMO / "home"
    home.mkdir()
    os.environ["HOME"] = str(home)  # tokens go to .demo/home/.planet/<name>/token.json
    for name in [n for n in os.environ if n.startswith(("PL_", "SOPS_"))]:
        del os.environ[name]

    step(1, "Starting the local OIDC server (oidc-provider) and the protected API")
    with start_devserver(DEMO / "devserver") as server:
        print(f"    issuer: {server.issuer}\n    API:    {server.hello_url}")
        client = server.clients["cc-secret"]

        step(2, "Generating an age key with pyrage")
        import pyrage

        identity = pyrage.x25519.Identity.generate()
        key_file = DEMO / "age-key.txt"
        key_file.write_text(f"# public key: {identity.to_public()}\n{identity}\n")
        key_file.chmod(0o600)
        print(f"    key file:  {key_file.relative_to(REPO)}\n    recipient: {identity.to_public()}")

        step(3, "Scaffolding a team repo and a client-credentials profile with copier")
        import copier

        from planet_profiles import _hooks

        team_repo = DEMO / "team-repo"
        copier.run_copy(
            str(REPO / "templates" / "profile-repo"),
            team_repo,
            defaults=True,
            quiet=True,
            data={"team_name": "demo", "age_recipients": [str(identity.to_public())]},
        )
        profiles = team_repo / "profiles"
        copier.run_copy(  # the secret goes from memory to sops inside copier: never written in clear
            str(REPO / "templates" / "profile"),
            profiles,
            defaults=True,
            quiet=True,
            unsafe=True,
            data={
                "profile_name": "demo-service",
                "client_type": "oidc_client_credentials_secret",
                "auth_server": server.issuer,
                "client_id": client.client_id,
                "client_secret": client.client_secret,
                "scopes": ["api.read"],
                "allowed_api_hosts": [server.api_url],  # where its token may go (the team repo requires it)
            },
        )
        target = profiles / "demo-service" / "auth_client.sops.json"
        on_disk = json.loads(target.read_text())
        print(f"    {team_repo.relative_to(REPO)}: {', '.join(sorted(p.name for p in team_repo.iterdir()))}")
        print(f"    {target.relative_to(REPO)}")
        print(f"      client_id:     {on_disk['client_id']}   (clear text, reviewable)")
        print(f"      client_secret: {on_disk['client_secret'][:40]}...   (sops/age encrypted)")

        step(4, "Running the pre-commit hooks on it without any key (as a commit and CI do)")
        for name, hook in (
            ("planet-profiles-validate", _hooks.main_validate),
            ("planet-profiles-encrypted", _hooks.main_encrypted),
        ):
            status = hook([str(target)])
            print(f"    {name}: {'passed' if status == 0 else 'FAILED'}")
            if status:
                return 1

        step(5, "Loading it with planet_auth_utils.PlanetAuthFactory.initialize_auth_client_context")
        os.environ["PL_AUTH_PROFILE_PATH"] = str(profiles)
        os.environ["SOPS_AGE_KEY_FILE"] = str(key_file)
        import planet_auth_utils

        auth_ctx = planet_auth_utils.PlanetAuthFactory.initialize_auth_client_context(
            auth_profile_opt="demo-service"
        )
        origin = auth_ctx.location.origin if auth_ctx.location else "?"
        print(f"    profile: {auth_ctx.profile_name()}  from {origin}")
        print(f"    client:  {auth_ctx.auth_client().__class__.__name__}")
        print(f"    ready:   {auth_ctx.request_authenticator_is_ready()}")

        step(6, "Calling the protected API")
        import httpx
        import requests

        auth = auth_ctx.request_authenticator()
        answer = requests.get(server.hello_url, auth=auth, timeout=10)
        print(f"    requests:    HTTP {answer.status_code} {answer.text.strip()}")
        with httpx.Client(auth=auth, timeout=10) as http:
            print(f"    httpx:       HTTP {http.get(server.hello_url).status_code}")

        async def call_async() -> int:
            async with httpx.AsyncClient(auth=auth, timeout=10) as http:
                return (await http.get(server.hello_url)).status_code

        print(f"    httpx async: HTTP {asyncio.run(call_async())}")
        print(f"    token requests made: {server.stats()['token_requests']} (one grant, reused)")
        print(f"    token saved at: {auth_ctx.token_file_path()}")
        if answer.status_code != 200 or not answer.json().get("ok"):
            return 1

        step(7, "An interactive profile: device-code login (the demo plays the user and approves it)")
        device_ctx = planet_auth_utils.PlanetAuthFactory.initialize_auth_client_context_from_custom_config(
            client_config={
                "client_type": "oidc_device_code",
                "auth_server": server.issuer,
                "client_id": "device-public",
                "scopes": ["openid", "offline_access", "api.read"],
            },
            profile_name="demo-user",
            save_token_file=True,
            save_profile_config=True,
        )
        print(f"    ready before login: {device_ctx.request_authenticator_is_ready()}")
        info = device_ctx.device_login_initiate()
        print(f"    visit {info['verification_uri']} and enter the code {info['user_code']}")
        approve_device(verification_uri=info["verification_uri"], user_code=info["user_code"])
        print("    (approved in the dev server's browser pages)")
        credential = device_ctx.device_login_complete(info)
        print(f"    logged in; token saved at {credential.path()}")
        answer = requests.get(server.hello_url, auth=device_ctx.request_authenticator(), timeout=10)
        print(f"    requests:    HTTP {answer.status_code} {answer.text.strip()}")
        if answer.status_code != 200 or not answer.json().get("ok"):
            return 1
        print("\nDemo finished: the protected API accepted the tokens of both profiles.")
        print(next_steps(write_env(home, profiles, key_file), server.hello_url))
        return 0


def write_env(home: Path, profiles: Path, key_file: Path) -> Path:
    """`.demo/env.sh`: the environment the demo ran in, for a shell of the user's (`. .demo/env.sh`)."""
    env = DEMO / "env.sh"
    env.write_text(
        "# planet-profiles demo: source it in a new shell (`. .demo/env.sh`); HOME is the demo's, so your\n"
        "# own ~/.planet is untouched. Keep the dev server up in another terminal: `make devserver`.\n"
        f"export HOME={home}\n"
        f"export PL_AUTH_PROFILE_PATH={profiles}\n"
        f"export SOPS_AGE_KEY_FILE={DEMO / 'age-key.txt'}\n"
        f"export PATH={Path(sys.executable).parent}:$PATH\n"
    )
    assert key_file == DEMO / "age-key.txt"
    return env


def next_steps(env: Path, hello_url: str) -> str:
    """What to try next on the demo's profiles, with the commands to type."""
    return f"""
Next: try the CLI on the demo's profiles. The dev server stopped with the demo; start it again, with the
same keys and ports, in another terminal and keep it up:

    make devserver

Then, in a new shell (HOME, PL_AUTH_PROFILE_PATH, SOPS_AGE_KEY_FILE and PATH as the demo had them):

    . {env.relative_to(REPO)}
    planet-profiles list                      # demo-service (the team repo), demo-user (~/.planet)
    planet-profiles show demo-service         # the config, redacted, and where each value comes from
    planet-profiles token demo-service        # an access token (client credentials)
    curl -H "Authorization: Bearer $(planet-profiles token demo-service)" {hello_url}
    planet-profiles status demo-user          # the device login's token, and its refresh token
    planet-profiles login demo-user --device  # approve at the URL it prints: any user name
    planet-profiles logout demo-user"""


if __name__ == "__main__":
    sys.exit(main())
