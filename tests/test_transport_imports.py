"""httpx (and the refresh lock's `filelock`) are imported only by programs that need them.

Each case runs in a fresh interpreter, with a profile on disk (`~/.planet/NAME/`, a valid saved token, an
issuer that is never contacted): a requests-only program gets its header without httpx or filelock in
`sys.modules`; a program that imports httpx after it asked for the authenticator gets an `httpx.Auth` the next
time it asks (the same object), and an authenticator handed to httpx without asking again still sets the
header.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

PROFILE = "imports"
ACCESS_TOKEN = "saved-access-token-" + "a" * 30


@pytest.fixture
def saved_profile(hermetic_env: Path) -> Path:
    directory = hermetic_env / ".planet" / PROFILE
    directory.mkdir(parents=True, mode=0o700)
    config = {
        "client_type": "oidc_auth_code",
        "auth_server": "http://127.0.0.1:9",
        "client_id": "native-public",
        "scopes": ["openid", "offline_access"],
        "local_redirect_uri": "http://127.0.0.1:8080/callback",
    }
    now = int(time.time())
    token = {
        "token_type": "Bearer",
        "access_token": ACCESS_TOKEN,
        "refresh_token": "saved-refresh-token",
        "expires_in": 36000,
        "_iat": now,
        "_exp": now + 36000,
    }
    for name, data in (("auth_client.json", config), ("token.json", token)):
        (directory / name).write_text(json.dumps(data))
        (directory / name).chmod(0o600)
    return directory


def _run(code: str) -> dict[str, object]:
    """Run `code` in a fresh interpreter from a neutral directory; it prints one JSON line."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    done = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        cwd=os.environ["HOME"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


_OPEN = (
    "import json, sys, planet_auth_utils, requests\n"
    "ctx = planet_auth_utils.PlanetAuthFactory.initialize_auth_client_context(\n"
    f"    auth_profile_opt={PROFILE!r})\n"
    "auth = ctx.request_authenticator()\n"
)


def test_a_requests_only_program_never_imports_httpx(saved_profile: Path) -> None:
    out = _run(
        _OPEN + "prepared = auth(requests.Request('GET', 'https://api.example.com/x').prepare())\n"
        "print(json.dumps({'header': prepared.headers['Authorization'],\n"
        "    'loaded': sorted(m for m in ('httpx', 'filelock', 'anyio', 'dataclasses', 'inspect',\n"
        "        'pydantic', 'jsonschema', 'cryptography', 'jwt', 'secrets', 'planet_profiles._http',\n"
        "        'planet_profiles._token_cache', 'planet_profiles._sopscheck', 'planet_profiles._sops',\n"
        "        'planet_profiles._config_views', 'planet_profiles._atomic', 'planet_profiles._terminal',\n"
        "        'planet_profiles._oauth', 'planet_profiles._builtins')\n"
        "        if m in sys.modules)}))"
    )
    # Nor `dataclasses` (it imports `inspect`: ~8 ms of a cold start), nor any library a load does not need,
    # nor the stages a load with a valid saved token does not reach: HTTP and OAuth, the shared token cache
    # (none is configured), the sops checks of `validate`, `secrets` (temp file names, PKCE), the typed
    # config views (for type checkers), atomic writes, the escaping of a server's text in errors, the
    # built-in profiles (a profile named by an argument or a setting needs none): each costs start time.
    assert out == {"header": f"Bearer {ACCESS_TOKEN}", "loaded": []}


def test_a_load_compiles_no_source_at_run_time(saved_profile: Path) -> None:
    """Nothing on a load's path turns source text into code at run time: `typing.NamedTuple` evaluates a
    `__new__` from source for each class (about 0.1 ms each in a fresh process: the stages' named tuples are
    `_names.Record`s) and compiles each string annotation (`ForwardRef`), and `_names.public` evaluates the
    annotations of a class that are not plain names. `compile`, and `eval`/`exec` of a string, are counted
    from before the first import of planet-profiles to the first header."""
    out = _run(
        "import builtins, json, sys, requests\n"
        "seen = []\n"
        "real = {name: getattr(builtins, name) for name in ('compile', 'eval', 'exec')}\n"
        "def counting(name):\n"
        "    def call(source, *args, **kwargs):\n"
        "        if name == 'compile' or isinstance(source, (str, bytes)):\n"
        "            seen.append(f'{name}: {source if isinstance(source, str) else type(source).__name__}')\n"
        "        return real[name](source, *args, **kwargs)\n"
        "    return call\n"
        "for name in real:\n"
        "    setattr(builtins, name, counting(name))\n"
        + _OPEN
        + "prepared = auth(requests.Request('GET', 'https://api.example.com/x').prepare())\n"
        "for name, function in real.items():\n"
        "    setattr(builtins, name, function)\n"
        "print(json.dumps({'header': prepared.headers['Authorization'], 'compiled': seen}))"
    )
    assert out == {"header": f"Bearer {ACCESS_TOKEN}", "compiled": []}


def test_httpx_imported_later_gets_an_httpx_auth(saved_profile: Path) -> None:
    out = _run(
        _OPEN + "before = 'httpx' in sys.modules\n"
        "import httpx\n"
        "held_is_plain = not isinstance(auth, httpx.Auth)\n"
        "again = ctx.request_authenticator()\n"
        "seen = []\n"
        "def answer(request):\n"
        "    seen.append(request.headers.get('Authorization'))\n"
        "    return httpx.Response(200)\n"
        "with httpx.Client(auth=again, transport=httpx.MockTransport(answer)) as client:\n"
        "    client.get('https://api.example.com/x')\n"
        "print(json.dumps({'before': before, 'held_is_plain': held_is_plain, 'same': again is auth,\n"
        "    'httpx_auth': isinstance(auth, httpx.Auth), 'seen': seen}))"
    )
    assert out == {
        "before": False,
        "held_is_plain": True,
        "same": True,
        "httpx_auth": True,
        "seen": [f"Bearer {ACCESS_TOKEN}"],
    }


def test_an_authenticator_made_before_httpx_still_sets_the_header(saved_profile: Path) -> None:
    """Handed to httpx without asking the context again, it is a plain callable to httpx (`FunctionAuth`):
    the header is set, with no 401 retry (documented in `_context.for_loaded_transports`)."""
    out = _run(
        _OPEN + "import httpx\n"
        "seen = []\n"
        "def answer(request):\n"
        "    seen.append(request.headers.get('Authorization'))\n"
        "    return httpx.Response(200)\n"
        "with httpx.Client(auth=auth, transport=httpx.MockTransport(answer)) as client:\n"
        "    status = client.get('https://api.example.com/x').status_code\n"
        "print(json.dumps({'status': status, 'seen': seen, 'httpx_auth': isinstance(auth, httpx.Auth)}))"
    )
    assert out == {"status": 200, "seen": [f"Bearer {ACCESS_TOKEN}"], "httpx_auth": False}
