"""`make soak`: the long versions of the crash-safety, multi-process and fuzz tests, with a summary table.

Starts its own dev server (`devserver/launch.py`), works in a temp `HOME` (no `PL_*`/`SOPS_*` of the
caller), and runs, each bounded in time:

1. crash safety: `--kills` SIGKILLs of a writer of `token.json` + profile + `~/.planet.json`, and
   `--sops-kills` of a writer of `token.sops.json` (real sops and age key), each with a concurrent reader;
2. cross-process refresh: `--workers` processes x `--duration` s on one profile, plaintext and encrypted
   tokens, against access tokens living `--access-ttl` s with rotating refresh tokens;
3. fuzzing: `pytest -k fuzz` with `HYPOTHESIS_PROFILE=soak` and `PLANET_PROFILES_SOAK=1`, if such tests
   exist. `tests/test_fuzz.py` writes its JSON report to the file named by `PLANET_PROFILES_FUZZ_REPORT`
   (`--fuzz-report FILE`, default in the temp dir); read from it: `total_cases` (or `fuzz_cases`),
   `unknown_untyped_count` (or `untyped_exceptions`), `known_bugs`, `leaks`. What is absent shows `n/a`.

Exits 1 when any zero-target is missed (or a bound is exceeded), 0 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "devserver")]

from launch import start_devserver  # noqa: E402

from tests.fixtures_keys import new_age_key  # noqa: E402
from tests.soak_workers import (  # noqa: E402
    crash_campaign,
    rewrite_and_count_strays,
    shared_profile_run,
)

Row = tuple[str, str, str, bool]  # what, measured, target, met


def hermetic(home: Path) -> None:
    """Like the tests' autouse fixture: `HOME` in the temp dir, no outer `PL_*`/`SOPS_*`/proxy settings."""
    for name in list(os.environ):
        if name.startswith(("PL_", "SOPS_")) or name in ("GNUPGHOME", "XDG_CONFIG_HOME", "BROWSER"):
            del os.environ[name]
        elif name.lower() in ("http_proxy", "https_proxy", "all_proxy"):
            del os.environ[name]
    os.environ.update(HOME=str(home), SOPS_DISABLE_VERSION_CHECK="1", NO_PROXY="127.0.0.1,localhost")


def crash_rows(work: Path, kills: int, sops_kills: int, limit: float) -> list[Row]:
    plain = crash_campaign(work / "crash", kills=kills, max_sleep_ms=30, time_limit=limit)
    strays_after = rewrite_and_count_strays(work / "crash" / "home")
    sops = crash_campaign(
        work / "crash-sops", kills=sops_kills, max_sleep_ms=100, encrypted=True, time_limit=limit
    )
    rows: list[Row] = []
    for label, result, wanted in (("token.json", plain, kills), ("token.sops.json", sops, sops_kills)):
        survived = result["kills"] - result["failed_kills"]
        rows.append(
            (
                f"kills survived ({label})",
                f"{survived}/{result['kills']}",
                f"{wanted}/{wanted}",
                survived == wanted,
            )
        )
        rows += [
            (
                f"  lost refresh tokens ({label})",
                str(result["lost_refresh_tokens"]),
                "0",
                result["lost_refresh_tokens"] == 0,
            ),
            (
                f"  corrupt reads ({label})",
                f"{result['corrupt_reads']} of {result['reads']}",
                "0",
                result["corrupt_reads"] == 0 and result["reads"] > 0,
            ),
        ]
        for problem in result["errors"]:
            print(f"  {label}: {problem}")
    rows.append(
        (
            "stray .tmp after next write (token.json)",
            f"{strays_after} (max {plain['stray_tmp_max']} during the run)",
            "0",
            strays_after == 0,
        )
    )
    return rows


def hammer_rows(work: Path, server: Any, workers: int, duration: float, encrypted: bool) -> list[Row]:
    home = work / ("hammer-sops" if encrypted else "hammer") / "home"
    home.mkdir(parents=True)
    os.environ["HOME"] = str(home)
    key = new_age_key(home.parent / "keys") if encrypted else None
    result = shared_profile_run(server, home, workers=workers, duration=duration, age_key=key)
    refreshes, errors, relogins = result["refreshes"], result["refresh_errors"], result["other_grants"]
    fewest, most = result["bounds"]
    label = "token.sops.json" if encrypted else "token.json"
    untyped = result["untyped"]
    for problem in result["errors"]:
        print(f"  {label}: {problem}")
    return [
        (
            f"refreshes vs expiries ({label}, {workers}x{duration:.0f}s)",
            f"{refreshes} (expiries ~{result['expiries']:.0f})",
            f"{fewest}..{most}",
            fewest <= refreshes <= most,
        ),
        (f"  invalid_grant ({label})", str(errors), "0", errors == 0),
        (f"  logins needed ({label})", str(relogins), "0", relogins == 0),
        (
            f"  API failures ({label})",
            f"{result['api_failures']} of {result['calls']}",
            "0",
            result["api_failures"] == 0 and result["calls"] > 0,
        ),
        (f"  worker exceptions ({label})", json.dumps(result["exceptions"]), "{}", not result["exceptions"]),
        (f"  untyped worker exceptions ({label})", str(untyped), "0", untyped == 0),
    ]


def fuzz_rows(report: Path, limit: float) -> list[Row]:
    """Run `pytest -k fuzz` with the soak settings; read the JSON report the fuzz module writes."""
    pytest = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-k", "fuzz"]
    env = {**os.environ, "HYPOTHESIS_PROFILE": "soak", "PLANET_PROFILES_SOAK": "1"}
    env["PLANET_PROFILES_FUZZ_REPORT"] = str(report)
    listed = subprocess.run(
        [*pytest, "--collect-only", "-q"], cwd=REPO, env=env, capture_output=True, text=True, timeout=300
    )
    count = sum(1 for line in listed.stdout.splitlines() if "::" in line)
    if count == 0:
        return [(what, "n/a (no fuzz tests)", "0", True) for what in ("fuzz cases", "untyped exceptions")]
    try:
        run = subprocess.run(
            [*pytest, "-q"], cwd=REPO, env=env, capture_output=True, text=True, timeout=limit
        )
        lines, passed = run.stdout.strip().splitlines() or ["?"], run.returncode == 0
        summary = lines[-1].strip("= ")
        for line in lines:
            if line.startswith(("FAILED", "ERROR")):
                print(f"  {line[:200]}")
    except subprocess.TimeoutExpired:
        summary, passed = f"timed out after {limit:.0f} s", False
    figures: dict[str, Any] = json.loads(report.read_text()) if report.is_file() else {}
    cases = figures.get("fuzz_cases", figures.get("total_cases"))
    untyped = figures.get("unknown_untyped_count", figures.get("untyped_exceptions"))
    known: dict[str, int] = figures.get("known_bugs") or {}
    leaks = figures.get("leaks")
    rows: list[Row] = [
        (f"fuzz tests ({count})", summary, "all pass", passed),
        ("  fuzz cases", "n/a" if cases is None else str(cases), "-", True),
    ]
    if isinstance(untyped, int):
        note = f" (+{sum(known.values())} of known bugs: {', '.join(sorted(known))})" if known else ""
        rows.append(("  untyped exceptions", f"{untyped}{note}", "0 new", untyped == 0))
    else:
        rows.append(("  untyped exceptions", "n/a", "0", True))
    if isinstance(leaks, int):
        rows.append(("  leaks found", str(leaks), "0", leaks == 0))
    else:  # the fuzz properties assert that no secret leaks: passing tests mean none was found
        rows.append(("  leaks found", "0 (asserted)" if passed else "n/a (tests failed)", "0", passed))
    return rows


def print_table(rows: list[Row]) -> None:
    widths = [max(len(str(row[i])) for row in rows) for i in range(3)]
    header = ("check", "measured", "target")
    print("\n" + "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + "  status")
    print("  ".join("-" * w for w in widths) + "  ------")
    for *cells, met in rows:
        line = "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True))
        print(line + ("  ok" if met else "  MISSED"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kills", type=int, default=1000)
    parser.add_argument("--sops-kills", type=int, default=100)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds per multi-process run")
    parser.add_argument("--access-ttl", type=int, default=2)
    parser.add_argument("--fuzz-report", type=Path, help="JSON written by the fuzz tests")
    parser.add_argument("--fuzz-timeout", type=float, default=900.0)
    parser.add_argument("--skip", action="append", default=[], choices=["crash", "hammer", "fuzz"])
    parser.add_argument("--json", type=Path, help="also write the rows as JSON")
    args = parser.parse_args(argv)

    started, rows = time.monotonic(), []
    with tempfile.TemporaryDirectory(prefix="planet-profiles-soak-") as tmp:
        work = Path(tmp)
        hermetic(work / "home")
        if "crash" not in args.skip:
            print(f"crash safety: {args.kills} + {args.sops_kills} (sops) kills ...", flush=True)
            rows += crash_rows(work, args.kills, args.sops_kills, limit=300)
        if "hammer" not in args.skip:
            with start_devserver(work / "devserver", access_ttl=args.access_ttl) as server:
                for encrypted in (False, True):
                    what = "token.sops.json" if encrypted else "token.json"
                    print(
                        f"cross-process refresh: {args.workers} x {args.duration:.0f} s, {what}", flush=True
                    )
                    rows += hammer_rows(work, server, args.workers, args.duration, encrypted)
        if "fuzz" not in args.skip:
            print("fuzz tests (pytest -k fuzz, HYPOTHESIS_PROFILE=soak) ...", flush=True)
            rows += fuzz_rows(args.fuzz_report or work / "fuzz-report.json", args.fuzz_timeout)
    print_table(rows)
    missed = [row[0].strip() for row in rows if not row[3]]
    print(f"\n{len(rows) - len(missed)}/{len(rows)} targets met in {time.monotonic() - started:.0f} s")
    if missed:
        print("MISSED: " + "; ".join(missed))
    if args.json:
        keys = ("check", "measured", "target", "met")
        args.json.write_text(json.dumps([dict(zip(keys, row, strict=True)) for row in rows], indent=2))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
