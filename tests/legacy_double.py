"""A local test double of Planet's legacy login endpoint (`POST /v0/auth/login`), stdlib only.

Planet's legacy protocol has no public test server, so this is the one place a double stands in for a peer.
It behaves like `https://api.planet.com/v0/auth/login`: a JSON body `{"email", "password"}`; good
credentials get 200 `{"token": "<JWT>"}` whose (HS256, server-secret) payload holds `api_key`; bad ones get
401 `{"message": "Invalid email or password", "errors": []}`; a body that is not JSON gets 400.

`LegacyDouble` runs on 127.0.0.1 on an ephemeral port. `fault` switches to a broken answer for error-path
tests: `"500"`, `"no_token"`, `"no_api_key"`, `"not_json"`. `requests` records every request (method, path,
headers, parsed body) so tests can assert what the client sent.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

LOGIN_PATH = "/v0/auth/login"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hs256_jwt(payload: dict[str, Any], secret: bytes) -> str:
    """A compact JWS (RFC 7515) signed with HMAC-SHA256, as Planet signs its legacy tokens."""
    signing_input = (
        _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode()) + "." + _b64(json.dumps(payload).encode())
    )
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + _b64(signature)


@dataclass
class LegacyUser:
    email: str
    password: str
    api_key: str = field(default_factory=lambda: "PLAK" + secrets.token_hex(16))
    user_id: int = 4711


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


class LegacyDouble:
    """The double: `with LegacyDouble() as double: double.url` (the login endpoint's URL)."""

    def __init__(self) -> None:
        self.users: dict[str, LegacyUser] = {}
        self.requests: list[RecordedRequest] = []
        self.fault: str | None = None
        self._secret = secrets.token_bytes(32)  # the "server" HMAC key; clients never see it
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}{LOGIN_PATH}"

    def add_user(self, email: str, password: str) -> LegacyUser:
        user = LegacyUser(email, password)
        self.users[email] = user
        return user

    def token_for(self, user: LegacyUser) -> str:
        payload = {
            "api_key": user.api_key,
            "email": user.email,
            "user_id": user.user_id,
            "user_name": user.email.split("@")[0],
            "organization_id": 1,
            "program_id": 29,
            "role_level": 100,
            "membership_id": 99,
        }
        return hs256_jwt(payload, self._secret)

    def answer(self, body: Any) -> tuple[int, Any]:
        """Status and JSON for a login request body (or bytes for the `not_json` fault)."""
        if self.fault == "500":
            return 500, {"message": "Internal Server Error"}
        if not isinstance(body, dict):
            return 400, {"message": "Bad request: expected a JSON object", "errors": []}
        user = self.users.get(str(body.get("email")))
        if user is None or not hmac.compare_digest(str(body.get("password")), user.password):
            return 401, {"message": "Invalid email or password", "errors": []}
        if self.fault == "no_token":
            return 200, {"status": "ok"}
        if self.fault == "no_api_key":
            return 200, {"token": hs256_jwt({"email": user.email}, self._secret)}
        if self.fault == "not_json":
            return 200, b"<html>maintenance</html>"
        return 200, {"token": self.token_for(user)}

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        double = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    body = json.loads(raw) if "json" in (self.headers.get("Content-Type") or "") else None
                except ValueError:
                    body = None
                double.requests.append(RecordedRequest("POST", self.path, dict(self.headers), body))
                status, answer = (
                    double.answer(body) if self.path == LOGIN_PATH else (404, {"message": "Not Found"})
                )
                data = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
                self.send_response(status)
                self.send_header(
                    "Content-Type", "text/html" if isinstance(answer, bytes) else "application/json"
                )
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                double.requests.append(RecordedRequest("GET", self.path, dict(self.headers), None))
                self.send_response(405)
                self.send_header("Content-Length", "0")
                self.end_headers()

        return Handler

    def __enter__(self) -> LegacyDouble:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
