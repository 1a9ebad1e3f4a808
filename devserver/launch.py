"""Start the local OIDC dev server (`node devserver/server.mjs`) from Python and describe it.

`start_devserver(state_dir, **options)` is a context manager that runs `npm ci` when needed, starts the
server on free loopback ports, waits for its `READY {json}` line and yields a `DevServer` (issuer, API URL,
test clients and their secrets/keys). The pytest fixtures (`tests/fixtures_devserver.py`) and `make demo`
both use it. `python devserver/launch.py` starts one and waits (Ctrl-C stops it).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import queue
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

DEVSERVER_DIR = Path(__file__).resolve().parent
READY_TIMEOUT = 30.0

DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
PORTS_FILE = "ports.json"


def _port(url: str) -> int:
    port = urlsplit(url).port
    assert port is not None, url  # the server's URLs always name their port
    return port


def saved_ports(state_dir: Path) -> dict[str, int]:
    """The ports a server with this `state_dir` last listened on (`{}` when none was started there)."""
    try:
        saved = json.loads((state_dir / PORTS_FILE).read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(saved, dict):
        return {}
    return {k: int(v) for k, v in saved.items() if k in ("port", "api_port")}


class DevServerError(RuntimeError):
    """The dev server could not be installed or started; the message carries its stderr."""


@dataclass(frozen=True)
class DevClient:
    """One of the server's fixed test clients (see devserver/README.md)."""

    client_id: str
    client_secret: str | None
    auth_method: str  # token_endpoint_auth_method: none, client_secret_basic/_post, private_key_jwt
    grant_types: tuple[str, ...]
    redirect_uris: tuple[str, ...]
    # private_key_jwt clients: {"rsa": path, "ec": path, "rsaEncrypted": path} (PKCS#8 PEM files)
    private_key_files: Mapping[str, Path] | None

    @property
    def is_public(self) -> bool:
        return self.auth_method == "none"

    def private_key_pem(self, kind: str = "rsa") -> str:
        """The PEM text of the client's `rsa`, `ec` or `rsaEncrypted` private key."""
        if not self.private_key_files:
            raise ValueError(f"{self.client_id} is not a private_key_jwt client")
        return self.private_key_files[kind].read_text()


@dataclass(frozen=True)
class DevServer:
    """A running dev server: the OIDC provider and the protected API."""

    issuer: str  # http://127.0.0.1:PORT, also the discovery base
    api_url: str  # http://127.0.0.1:API_PORT (no trailing slash)
    audience: str  # `aud` of the API's JWT access tokens and its resource indicator: api_url + "/"
    opaque_resource: str  # resource indicator that yields opaque (introspectable) API tokens
    access_ttl: int
    state_dir: Path
    log_file: Path  # the server's stderr
    clients: Mapping[str, DevClient]
    key_passphrase: str  # of the `rsaEncrypted` key file
    username: str = "test-user"  # any non-empty login works
    password: str = "password"  # the only password the password grant accepts (devInteractions accept any)
    api_key: str = "static-test-key-123"  # static key the API accepts with any scheme

    # oidc-provider's fixed routes (discovery lists the same URLs; a test checks that).
    @property
    def discovery_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    @property
    def authorization_endpoint(self) -> str:
        return f"{self.issuer}/auth"

    @property
    def token_endpoint(self) -> str:
        return f"{self.issuer}/token"

    @property
    def device_authorization_endpoint(self) -> str:
        return f"{self.issuer}/device/auth"

    @property
    def introspection_endpoint(self) -> str:
        return f"{self.issuer}/token/introspection"

    @property
    def revocation_endpoint(self) -> str:
        return f"{self.issuer}/token/revocation"

    @property
    def userinfo_endpoint(self) -> str:
        return f"{self.issuer}/me"

    @property
    def jwks_uri(self) -> str:
        return f"{self.issuer}/jwks"

    def profile(
        self,
        client_type: str,
        client_id: str,
        *,
        key: str | None = None,
        key_file: str | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        """A planet-profiles profile dict for a test client: `auth_server`, `client_id`, the client's secret
        and its registered `client_auth_method` for `*_secret` types, its private key for `*_pubkey` types
        (`key`: the PEM of `rsa`, `ec`, … inline; `key_file`: the path of that key file), scopes for API
        tokens."""
        client = self.clients[client_id]
        config: dict[str, Any] = {
            "client_type": client_type,
            "auth_server": self.issuer,
            "client_id": client_id,
            "scopes": ["api.read"]
            if "client_credentials" in client_type
            else ["openid", "offline_access", "api.read"],
        }
        if client_type.endswith("_secret"):
            config["client_secret"] = client.client_secret
            # What a profile made for this client says; pass `client_auth_method=None` to name none.
            config["client_auth_method"] = client.auth_method
        if key:
            config["client_privkey"] = client.private_key_pem(key)
        if key_file:
            assert client.private_key_files is not None, f"{client_id} has no private key"
            config["client_privkey_file"] = str(client.private_key_files[key_file])
        merged = {**config, **extra}
        if merged.get("client_auth_method", "") is None:
            del merged["client_auth_method"]
        return merged

    @property
    def hello_url(self) -> str:
        """`GET` it with a credential: 200 `{"ok": true, ...}` or 401 with a `WWW-Authenticate` challenge."""
        return f"{self.api_url}/api/hello"

    @property
    def write_url(self) -> str:
        """Like `hello_url`, but JWTs need the `api.write` scope (else 403 insufficient_scope)."""
        return f"{self.api_url}/api/write"

    def stats(self) -> dict[str, Any]:
        """Token endpoint counters: `token_requests`, `by_grant`, `token_errors`, `errors_by_grant`."""
        return self._api_call("GET", "/_stats")

    def reset_stats(self) -> dict[str, Any]:
        return self._api_call("POST", "/_stats/reset")

    def add_api_key(self, api_key: str) -> None:
        """Make the API accept one more static key (e.g. one issued by a test double)."""
        self._api_call("POST", "/_api_keys", json={"api_key": api_key})

    def _api_call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        with requests.Session() as session:
            session.trust_env = False  # loopback only: never through a proxy
            response = session.request(method, f"{self.api_url}{path}", timeout=10, **kwargs)
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result


def _ensure_node_modules() -> None:
    """Run `npm ci` in devserver/ unless its node_modules are there (one process at a time, xdist-safe)."""
    marker = DEVSERVER_DIR / "node_modules" / "oidc-provider" / "package.json"
    if marker.exists():
        return
    npm = shutil.which("npm")
    if npm is None:
        raise DevServerError("npm is not on PATH: install Node >= 20.18, then `cd devserver && npm ci`")
    # The lock lives outside node_modules (which `npm ci` deletes first) and outside the repo.
    with open(Path(tempfile.gettempdir()) / "planet-profiles-devserver-npm-ci.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if marker.exists():
            return
        result = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"],
            cwd=DEVSERVER_DIR,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if result.returncode != 0:
            raise DevServerError(f"`npm ci` in {DEVSERVER_DIR} failed:\n{result.stdout}\n{result.stderr}")


def _read_lines(stream: Any, lines: queue.Queue[str | None]) -> None:
    """Thread target: move the server's stdout lines into `lines` (keeps the pipe drained); None at EOF."""
    for line in stream:
        lines.put(line)
    lines.put(None)


def _wait_ready(
    process: subprocess.Popen[str], lines: queue.Queue[str | None], log_file: Path
) -> dict[str, Any]:
    """Wait for the `READY {json}` line; raise DevServerError with the server's stderr otherwise."""
    try:
        while True:
            line = lines.get(timeout=READY_TIMEOUT)
            if line is None:
                break
            if line.startswith("READY "):
                ready: dict[str, Any] = json.loads(line[len("READY ") :])
                return ready
    except queue.Empty:
        problem = f"no READY line within {READY_TIMEOUT:.0f} s"
    else:
        problem = f"exited with status {process.wait()} before it was ready"
    raise DevServerError(f"devserver {problem}; its stderr:\n{log_file.read_text()}")


def _load_server(ready: dict[str, Any], log_file: Path) -> DevServer:
    state_dir = Path(ready["state_dir"])
    catalog = json.loads((state_dir / "clients.json").read_text())
    clients = {
        client_id: DevClient(
            client_id=client_id,
            client_secret=entry["client_secret"],
            auth_method=entry["token_endpoint_auth_method"],
            grant_types=tuple(entry["grant_types"]),
            redirect_uris=tuple(entry["redirect_uris"]),
            private_key_files=(
                {kind: Path(file) for kind, file in entry["private_key_files"].items()}
                if entry["private_key_files"]
                else None
            ),
        )
        for client_id, entry in catalog["clients"].items()
    }
    return DevServer(
        issuer=ready["issuer"],
        api_url=ready["api"],
        audience=ready["audience"],
        opaque_resource=ready["opaque_resource"],
        access_ttl=ready["access_ttl"],
        state_dir=state_dir,
        log_file=log_file,
        clients=clients,
        key_passphrase=catalog["private_key_passphrase"],
        password=catalog["test_user"]["password"],
    )


@contextlib.contextmanager
def start_devserver(
    state_dir: Path,
    *,
    access_ttl: int | None = None,
    refresh_ttl: int | None = None,
    device_interval: int | None = None,
    api_keys: tuple[str, ...] = (),
    port: int = 0,
    api_port: int = 0,
) -> Iterator[DevServer]:
    """Start `node devserver/server.mjs` on loopback ports (0: free ones), yield it when ready, stop it on
    exit.

    `state_dir` receives the server's keys, `clients.json`, `server.log` (its stderr) and `ports.json` (the
    ports it listened on, which `python devserver/launch.py --state-dir DIR` reuses: profiles made against
    the server keep working after a restart).
    """
    node = shutil.which("node")
    if node is None:
        raise DevServerError("node is not on PATH: the dev server needs Node >= 20.18")
    _ensure_node_modules()
    state_dir = state_dir.resolve()  # the server runs in devserver/: a relative path would land there
    state_dir.mkdir(parents=True, exist_ok=True)

    script = DEVSERVER_DIR / "server.mjs"
    args = [node, str(script), "--port", str(port), "--api-port", str(api_port)]
    args += ["--state-dir", str(state_dir)]
    options = {"--access-ttl": access_ttl, "--refresh-ttl": refresh_ttl, "--device-interval": device_interval}
    for flag, value in options.items():
        if value is not None:
            args += [flag, str(value)]
    for key in api_keys:
        args += ["--api-key", key]
    # Only the command line configures the server: drop outer DEVSERVER_* variables; keep it off HOME.
    env = {name: value for name, value in os.environ.items() if not name.startswith("DEVSERVER_")}
    env["HOME"] = str(state_dir)

    log_file = state_dir / "server.log"
    with open(log_file, "w") as log:
        process = subprocess.Popen(
            args, stdout=subprocess.PIPE, stderr=log, text=True, env=env, cwd=DEVSERVER_DIR
        )
    assert process.stdout is not None
    lines: queue.Queue[str | None] = queue.Queue()
    reader = threading.Thread(target=_read_lines, args=(process.stdout, lines), daemon=True)
    reader.start()
    try:
        server = _load_server(_wait_ready(process, lines, log_file), log_file)
        ports = {"port": _port(server.issuer), "api_port": _port(server.api_url)}
        (state_dir / PORTS_FILE).write_text(json.dumps(ports) + "\n")
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        reader.join(timeout=5)
        process.stdout.close()


def main(argv: list[str] | None = None) -> int:
    """`python devserver/launch.py [--state-dir DIR] [--port N] [--api-port N]`: run a server until Ctrl-C.

    With a `--state-dir` a server used before (`make demo`'s `.demo/devserver`), the same keys and ports
    again, so the profiles and tokens made against it keep working."""
    import argparse
    import sys
    import time

    parser = argparse.ArgumentParser(description="Run the local OIDC dev server and its protected API.")
    parser.add_argument("--state-dir", type=Path, help="keys, clients.json, ports.json (default: new)")
    parser.add_argument("--port", type=int, help="OIDC port (default: the state dir's last one, else any)")
    parser.add_argument("--api-port", type=int, help="API port (default: the state dir's last one, else any)")
    args = parser.parse_args(argv)
    import signal

    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, stop)  # also when started in the background (`&`: SIGINT ignored)
    signal.signal(signal.SIGTERM, stop)  # `kill PID` stops the node server too
    state_dir = args.state_dir or Path(tempfile.mkdtemp(prefix="devserver-"))
    saved = saved_ports(state_dir)
    port = args.port if args.port is not None else saved.get("port", 0)
    api_port = args.api_port if args.api_port is not None else saved.get("api_port", 0)
    try:
        with start_devserver(state_dir, port=port, api_port=api_port) as server:
            print(f"issuer  {server.issuer}\napi     {server.hello_url}\nstate   {state_dir}")
            print(f"clients {', '.join(server.clients)}\n(Ctrl-C stops it)")
            sys.stdout.flush()
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                pass
    except DevServerError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover - manual use
    raise SystemExit(main())
