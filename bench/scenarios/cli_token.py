"""P8: print a cached valid access token from the command line, wall time of the whole process.

Ours: `planet-profiles token NAME`. planet-auth: `plauth --auth-profile NAME oauth print-access-token`, whose
default (`--refresh`) checks the saved JWT locally (signature against the issuer's JWKS, so the profile names
the dev server, its `audiences`, and the token is a real JWT from its password grant), and, for reference,
`--no-refresh`, which prints the file's token without any check. Both must print the same token.

planet-auth 2.3.2's default fails against oidc-provider: it insists on `Content-Type: application/json` for
the JWKS, and the server answers `application/jwk-set+json` (RFC 7517 §8.5). The run probes it once; when
it fails the table says so and the target is checked against `--no-refresh`.
"""

from __future__ import annotations

from _harness import Lib, Summary, Workspace, password_grant, run_child

from scenarios import AllSamples, Row, Samples, Scenario, compare

REPEATS = 3
LIMIT_MS = 120.0
MAX_RATIO = 0.5
NAME = "bench-cli"
SCOPES = ["openid", "offline_access", "api.read"]


class CliToken(Scenario):
    id = "P8"
    title = "`planet-profiles token NAME` vs `plauth oauth print-access-token`, cached valid token"

    def setup(self, ws: Workspace) -> None:
        self.server = ws.devserver()
        directory = ws.profile_dir(NAME)
        config = {
            "client_type": "oidc_resource_owner",
            "auth_server": self.server.issuer,
            "client_id": "ro-public",
            "scopes": SCOPES,
            "audiences": [self.server.audience],
            "username": self.server.username,
        }
        ws.write_json(directory / "auth_client.json", config)
        self.token_file = directory / "token.json"
        self.notes: list[str] = []
        self._fresh_token(ws)
        pa = ws.libs["pa"]
        probe = run_child(self._plauth(pa), ws.env(pa), ws.cwd, check=False)
        self.default_error = None
        if probe.returncode != 0:
            self.default_error = (probe.stderr.strip().splitlines() or ["no message"])[-1]
            self.notes.append(
                f"P8: `plauth oauth print-access-token` (default --refresh) fails: {self.default_error}"
            )

    def _fresh_token(self, ws: Workspace) -> str:
        token = password_grant(self.server, "ro-public", " ".join(SCOPES))
        ws.write_json(self.token_file, token)
        return str(token["access_token"])

    @staticmethod
    def _plauth(lib: Lib) -> list[str]:
        return [str(lib.bin / "plauth"), "--auth-profile", NAME, "oauth", "print-access-token"]

    def commands(self, lib: Lib) -> dict[str, list[str]]:
        if lib.key == "ours":
            return {"cmd": [str(lib.bin / "planet-profiles"), "token", NAME]}
        commands = {"nr": [*self._plauth(lib), "--no-refresh"]}
        if self.default_error is None:
            commands["cmd"] = self._plauth(lib)
        return commands

    def measure(self, ws: Workspace, lib: Lib) -> Samples:
        expected = self._fresh_token(ws)
        samples: Samples = {}
        for _ in range(REPEATS):
            for key, argv in self.commands(lib).items():
                child = run_child(argv, ws.env(lib), ws.cwd)
                if child.stdout.strip() != expected:
                    raise RuntimeError(f"{argv[0]} printed {child.stdout[:80]!r}, not the cached token")
                samples.setdefault(key, []).append(child.seconds * 1e3)
                samples.setdefault(f"{key} rss", []).append(child.max_rss_kib / 1024)
        if lib.key == "ours":
            samples["nr"] = samples["cmd"]
            samples["nr rss"] = samples["cmd rss"]
        return samples

    def rows(self, samples: AllSamples) -> list[Row]:
        def check(ours: Summary | None, pa: Summary | None) -> tuple[str, bool | None]:
            ok = ours is not None and pa is not None and ours.median <= LIMIT_MS
            ok = ok and ours is not None and pa is not None and ours.median <= MAX_RATIO * pa.median
            return f"≤ {LIMIT_MS:g} ms and ratio ≤ {MAX_RATIO:g}", ok

        default = compare(
            "P8", "print cached token: ours vs plauth default (checks the JWT)", "ms", samples, "cmd"
        )
        if self.default_error is not None:
            default = Row(
                default.scenario, default.figure, "ms", default.ours, "fails (see note)", "n/a", "", ""
            )
        else:
            default = compare("P8", default.figure, "ms", samples, "cmd", check=check)
        return [
            default,
            compare(
                "P8", "… vs plauth --no-refresh (prints the file, no check)", "ms", samples, "nr", check=check
            ),
            compare("P8", "peak RSS (vs plauth --no-refresh)", "MiB", samples, "nr rss"),
        ]
