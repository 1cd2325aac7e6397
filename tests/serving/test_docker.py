"""docker/ checked without a Docker engine: hadolint on both Dockerfiles, compose.yaml against
the compose-spec JSON schema, and every SAMYU_* variable they set against the real settings."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from pydantic import BaseModel

from serving.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
DOCKER = ROOT / "docker"
BIN = Path(sys.executable).parent
DOCKERFILES = [DOCKER / "Dockerfile", DOCKER / "Dockerfile.gpu"]


def _tool(name: str) -> str:
    found = shutil.which(name, path=str(BIN)) or shutil.which(name)
    assert found, f"{name} is a [dev] dependency; run scripts/setup.sh"
    return found


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.name)
def test_dockerfile_passes_hadolint(dockerfile: Path) -> None:
    result = subprocess.run(
        [_tool("hadolint"), "--no-color", str(dockerfile)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.name)
def test_dockerfile_copies_what_exists_and_runs_the_server(dockerfile: Path) -> None:
    text = dockerfile.read_text()
    for source in re.findall(r"^COPY (?!--from)(\S+)", text, flags=re.M):
        assert (ROOT / source).exists(), source
    assert 'CMD ["samyu", "serve"]' in text
    assert "RUN samyu models" in text  # models assembled at build time, not at run time
    assert "torch==2.9.1" in text  # pinned, as in pyproject
    assert "HEALTHCHECK" in text


def test_compose_file_matches_the_compose_spec() -> None:
    result = subprocess.run(
        [
            _tool("check-jsonschema"),
            "--builtin-schema",
            "vendor.compose-spec",
            str(DOCKER / "compose.yaml"),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_wires_samyu_to_a_tensor_parallel_vllm() -> None:
    compose = yaml.safe_load((DOCKER / "compose.yaml").read_text())
    vllm, samyu = compose["services"]["vllm"], compose["services"]["samyu"]
    args = dict(a.removeprefix("--").split("=", 1) for a in vllm["command"] if "=" in a)
    assert int(args["tensor-parallel-size"]) >= 2
    assert "70B" in args["model"]
    gpus = vllm["deploy"]["resources"]["reservations"]["devices"][0]["device_ids"]
    assert len(gpus) == int(args["tensor-parallel-size"])
    env = samyu["environment"]
    assert env["SAMYU_ASSISTANT__ENGINE"] == "openai"
    assert env["SAMYU_ASSISTANT__OPENAI__BASE_URL"] == f"http://vllm:{args['port']}/v1"
    assert env["SAMYU_ASSISTANT__OPENAI__MODEL"] == args["served-model-name"]
    assert samyu["depends_on"]["vllm"]["condition"] == "service_healthy"
    assert "samyu-home:/data" in samyu["volumes"] and "samyu-home" in compose["volumes"]
    gpu_dockerfile = (DOCKER / "Dockerfile.gpu").read_text()
    assert "SAMYU_HOME=/data" in gpu_dockerfile  # the volume holds SAMYU_HOME
    for service in (vllm, samyu):
        assert service["healthcheck"]["test"]


def _env_settings() -> dict[str, str]:
    found: dict[str, str] = {}
    compose = yaml.safe_load((DOCKER / "compose.yaml").read_text())
    for service in compose["services"].values():
        for key, value in (service.get("environment") or {}).items():
            if key.startswith("SAMYU_"):
                found[key] = str(value)
    for dockerfile in DOCKERFILES:
        for key, value in re.findall(r"(SAMYU_[A-Z_]+)=(\S+)", dockerfile.read_text()):
            found[key] = value
    return found


def test_every_samyu_variable_names_a_real_setting() -> None:
    variables = _env_settings()
    assert len(variables) >= 8
    for name in variables:
        model: type[BaseModel] = Settings
        for part in name.removeprefix("SAMYU_").lower().split("__"):
            assert part in model.model_fields, f"{name}: no setting {part!r}"
            annotation = model.model_fields[part].annotation
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                model = annotation


def test_docker_compose_config_when_the_cli_plugin_exists(tmp_path: Path) -> None:
    docker = shutil.which("docker")
    probe = subprocess.run([docker, "compose", "version"], capture_output=True) if docker else None
    if probe is None or probe.returncode != 0:
        pytest.skip("no `docker compose` plugin here; the compose-spec schema check stands in")
    result = subprocess.run(
        [docker, "compose", "-f", str(DOCKER / "compose.yaml"), "config", "--quiet"],
        capture_output=True,
        text=True,
        env={"VLLM_API_KEY": "x", "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
