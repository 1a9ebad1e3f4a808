"""Benchmark: the `planet-profiles-validate` hook against check-jsonschema, 1000 profile files, one call each.

    .venv/bin/python bench/bench_validate.py [--files 1000] [--rounds 7]

Makes `--files` profile directories in a temp dir: half `auth_client.json` (20 distinct plaintext profiles,
replicated), half `auth_client.sops.json` (20 distinct profiles encrypted by real sops for a fresh age
recipient, replicated). Then, in rounds (the order rotates each round, after one untimed warm-up of each),
runs each command once as a child process over all its files:

- our hook (`planet-profiles-validate`, or `python -m planet_profiles._hooks validate` if the console
  script is not installed) over all files, and over the plaintext files only;
- `check-jsonschema --schemafile schema/auth_client.schema.json` over the plaintext files (it cannot read
  sops files: their `sops` block is not in the schema), from its own venv `bench/.venv-check-jsonschema`
  (created on first use; not a project dependency);
- our `planet-profiles-encrypted` hook over all files.

It prints wall-clock seconds (median, min-max), files per second, the ratio to check-jsonschema on the
same plaintext files, and each child's peak RSS (`os.wait4`). Target: the validate hook ≤ 1.0 s for 1000
files in one call. Every command must exit 0 (all files are valid); otherwise the script stops.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = ROOT / "schema" / "auth_client.schema.json"
CJS_VENV = ROOT / "bench" / ".venv-check-jsonschema"
SERVER = "https://login.example.com/oauth2/default"
DISTINCT = 20
TARGET_SECONDS = 1.0


# ---------------------------------------------------------------- profiles


def plaintext_profiles() -> list[dict[str, Any]]:
    """DISTINCT valid plaintext profiles (no secret keys) of several client types."""
    shapes: list[dict[str, Any]] = [
        {"client_type": "oidc_auth_code", "local_redirect_uri": "http://127.0.0.1:8080/callback"},
        {"client_type": "oidc_device_code"},
        {"client_type": "oidc_device_code_pubkey", "client_privkey_file": "~/.planet/key.pem"},
        {"client_type": "oidc_client_credentials_pubkey", "client_privkey_file": "/etc/svc/key.pem"},
        {"client_type": "oidc_client_validator", "audiences": ["https://api.example.com"]},
    ]
    out = []
    for i in range(DISTINCT):
        doc = dict(shapes[i % len(shapes)])
        doc["auth_server"] = SERVER
        if doc["client_type"] != "oidc_client_validator":
            doc["client_id"] = f"client-{i:02d}"
            doc["scopes"] = ["openid", "profile", f"team{i}:read"]
        doc["allowed_issuer_hosts"] = ["login.example.com"]
        out.append(doc)
    return out


def secret_profiles() -> list[dict[str, Any]]:
    """DISTINCT valid profiles with secret keys (to be encrypted)."""
    shapes: list[dict[str, Any]] = [
        {"client_type": "oidc_client_credentials_secret", "client_secret": "cs-{i}-" + "x" * 40},
        {
            "client_type": "oidc_auth_code_secret",
            "redirect_uri": "https://app.example.com/cb",
            "client_secret": "ac-{i}-" + "y" * 40,
        },
        {"client_type": "oidc_device_code_secret", "client_secret": "dc-{i}-" + "z" * 40},
        {
            "client_type": "oidc_resource_owner",
            "username": "user{i}@example.com",
            "password": "pw-{i}-secret",
        },
        {"client_type": "static_apikey", "api_key": "PLAK{i}" + "0" * 28},
    ]
    out = []
    for i in range(DISTINCT):
        doc = {k: v.format(i=i) if isinstance(v, str) else v for k, v in shapes[i % len(shapes)].items()}
        if doc["client_type"].startswith("oidc_"):
            doc.update(auth_server=SERVER, client_id=f"svc-{i:02d}", scopes=["openid", f"svc{i}:write"])
        out.append(doc)
    return out


def make_tree(directory: Path, count: int) -> tuple[list[str], list[str]]:
    """Write `count` profile dirs under `directory`; returns (plaintext files, encrypted files)."""
    import json

    sys.path.insert(0, str(ROOT))
    from pyrage import x25519  # type: ignore[import-untyped]  # dev dependency

    from planet_profiles._sops import Sops

    recipient = str(x25519.Identity.generate().to_public())  # the identity is never kept
    sops = Sops()
    encrypted = []
    for i, doc in enumerate(secret_profiles()):
        path = directory / "_distinct" / f"e{i}" / "auth_client.sops.json"
        path.parent.mkdir(parents=True)
        sops.encrypt(doc, path, age_recipients=[recipient])
        encrypted.append(path.read_bytes())
    plain = [(json.dumps(doc, indent=2) + "\n").encode() for doc in plaintext_profiles()]
    plain_files, enc_files = [], []
    for i in range(count):
        if i % 2:
            path = directory / "profiles" / f"p{i:04d}" / "auth_client.sops.json"
            enc_files.append(str(path))
            content = encrypted[(i // 2) % DISTINCT]
        else:
            path = directory / "profiles" / f"p{i:04d}" / "auth_client.json"
            plain_files.append(str(path))
            content = plain[(i // 2) % DISTINCT]
        path.parent.mkdir(parents=True)
        path.write_bytes(content)
    shutil.rmtree(directory / "_distinct")
    return plain_files, enc_files


# ---------------------------------------------------------------- commands


def hook_command(hook: str) -> list[str]:
    script = Path(sys.executable).with_name(f"planet-profiles-{hook}")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "planet_profiles._hooks", hook]


def check_jsonschema() -> tuple[list[str], str]:
    """The check-jsonschema command from its own venv (created if missing) and its version."""
    exe = CJS_VENV / "bin" / "check-jsonschema"
    if not exe.exists():
        print(f"creating {CJS_VENV.relative_to(ROOT)} with check-jsonschema ...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(CJS_VENV)], check=True)
        subprocess.run([str(CJS_VENV / "bin" / "pip"), "install", "-q", "check-jsonschema"], check=True)
    version = subprocess.run([str(exe), "--version"], capture_output=True, text=True, check=True).stdout
    return [str(exe), "--schemafile", str(SCHEMA)], version.strip().split()[-1]


class Run(NamedTuple):
    seconds: float
    max_rss_kib: int


def run_once(argv: Sequence[str], cwd: Path) -> Run:
    """One child process: wall seconds and its own peak RSS (`os.wait4`); exit status must be 0."""
    start = time.perf_counter()
    child = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert child.stdout is not None
    output = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    elapsed = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        sys.exit(f"{argv[0]} exited {child.returncode}:\n{output.decode(errors='replace')[:2000]}")
    return Run(elapsed, usage.ru_maxrss)  # KiB on Linux


class Case(NamedTuple):
    label: str
    argv: list[str]
    files: int
    baseline: str | None  # label of the case to compare with (same files)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000, help="profile files (default %(default)s)")
    parser.add_argument("--rounds", type=int, default=7, help="timed rounds (default %(default)s)")
    args = parser.parse_args(argv)
    cjs, cjs_version = check_jsonschema()
    with tempfile.TemporaryDirectory(prefix="pp-bench-") as tmp:
        work = Path(tmp)
        plain, enc = make_tree(work, args.files)
        both = sorted(plain + enc)

        def rel(files: list[str]) -> list[str]:  # relative names, as pre-commit passes them
            return [os.path.relpath(f, work) for f in files]

        cjs_label = f"check-jsonschema {cjs_version}, plaintext"
        cases = [
            Case("validate hook, all files", [*hook_command("validate"), *rel(both)], len(both), None),
            Case("validate hook, plaintext", [*hook_command("validate"), *rel(plain)], len(plain), cjs_label),
            Case(cjs_label, [*cjs, *rel(plain)], len(plain), None),
            Case("encrypted hook, all files", [*hook_command("encrypted"), *rel(both)], len(both), None),
        ]
        print(f"{len(plain)} plaintext + {len(enc)} encrypted files ({DISTINCT} distinct each) in {work}")
        print(f"python {platform.python_version()}, {os.cpu_count()} CPUs, {platform.platform()}")
        print(f"hook: {' '.join(hook_command('validate'))} FILE...; {args.rounds} rounds + 1 warm-up")
        results: dict[str, list[Run]] = {c.label: [] for c in cases}
        for r in range(args.rounds + 1):
            for case in cases[r % len(cases) :] + cases[: r % len(cases)]:  # rotate the order
                run = run_once(case.argv, work)
                if r:  # round 0 is the warm-up
                    results[case.label].append(run)
    print()
    columns = ("files", 5), ("median s", 9), ("min-max s", 13), ("files/s", 8), ("ratio", 6), ("RSS MiB", 8)
    head = f"{'command':<42} " + " ".join(f"{name:>{width}}" for name, width in columns)
    print(head)
    print("-" * len(head))
    medians = {label: statistics.median(r.seconds for r in runs) for label, runs in results.items()}
    for case in cases:
        runs = results[case.label]
        median = medians[case.label]
        ratio = f"{median / medians[case.baseline]:.2f}x" if case.baseline else ""
        span = f"{min(r.seconds for r in runs):.3f}-{max(r.seconds for r in runs):.3f}"
        rss = max(r.max_rss_kib for r in runs) / 1024
        print(
            f"{case.label:<42} {case.files:>5} {median:>9.3f} {span:>13} {case.files / median:>8.0f} "
            f"{ratio:>6} {rss:>8.1f}"
        )
    hook = medians[cases[0].label]
    verdict = "met" if hook <= TARGET_SECONDS else "NOT met"
    print(f"\ntarget: validate hook over {cases[0].files} files in one call ≤ {TARGET_SECONDS} s: {verdict}")
    print("ratio: median time / check-jsonschema's median on the same plaintext files (lower is faster)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
