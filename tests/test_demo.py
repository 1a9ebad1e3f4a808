"""`make demo` runs end to end: the protected API's success, then what to try next, which works."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests

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
    assert "\nDemo finished: the protected API accepted the tokens of both profiles.\n" in result.stdout
    assert result.stdout.count("HTTP 200") == 4  # client credentials: requests, httpx, async; device login
    _next_steps_work(result.stdout, env)


def _next_steps_work(output: str, env: dict[str, str]) -> None:
    """Issue 14 point 12: the demo ends with what to try next (`make devserver`, `. .demo/env.sh`, CLI
    commands on its profiles); done as it says, they work against the restarted server."""
    ending = output.split("Demo finished", 1)[1]
    assert "    make devserver\n" in ending and "    . .demo/env.sh\n" in ending
    commands = re.findall(r"^    (planet-profiles [^#\n]*?)\s*(?:#.*)?$", ending, re.M)
    assert "planet-profiles token demo-service" in commands and "planet-profiles status demo-user" in commands
    hello = re.search(r"(http://127\.0\.0\.1:\d+/api/hello)", ending)
    assert hello is not None
    recipe = subprocess.run(["make", "-n", "devserver"], capture_output=True, text=True, cwd=REPO, check=True)
    assert "devserver/launch.py --state-dir .demo/devserver" in recipe.stdout
    shell = dict(env)
    for name, value in re.findall(r"^export (\w+)=(.*)$", (REPO / ".demo" / "env.sh").read_text(), re.M):
        shell[name] = value.replace("$PATH", env["PATH"])
    server = subprocess.Popen(  # what `make devserver` runs
        [sys.executable, "devserver/launch.py", "--state-dir", ".demo/devserver"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=REPO,
    )
    try:
        assert server.stdout is not None
        for line in server.stdout:
            if "Ctrl-C" in line:
                break
        else:
            pytest.fail(server.stderr.read() if server.stderr else "no output")
        for command in ("list", "show demo-service", "status demo-user"):
            command = f"planet-profiles {command}"
            done = subprocess.run(command.split(), capture_output=True, text=True, env=shell, timeout=60)
            assert done.returncode == 0 and done.stderr == "", (command, done.stdout, done.stderr)
        token = subprocess.run(
            ["planet-profiles", "token", "demo-service"],
            capture_output=True, text=True, env=shell, timeout=60,
        )
        assert token.returncode == 0, token.stderr
        bearer = {"Authorization": f"Bearer {token.stdout.strip()}"}
        answer = requests.get(hello[1], headers=bearer, timeout=10)
        assert answer.status_code == 200 and answer.json()["ok"] is True, answer.text
    finally:
        server.send_signal(signal.SIGTERM)
        server.communicate(timeout=30)
