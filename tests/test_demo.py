"""`make demo` runs end to end: its last line is the protected API's success."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.integration
def test_demo_runs_end_to_end() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PL_", "SOPS_"))}
    result = subprocess.run(
        [sys.executable, str(REPO / "examples" / "demo.py")],
        capture_output=True, text=True, timeout=180, env=env, cwd=REPO,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert '"ok":true' in result.stdout
    assert result.stdout.strip().splitlines()[-1].startswith("Demo finished")
    assert result.stdout.count("HTTP 200") == 4  # client credentials: requests, httpx, async; device login
