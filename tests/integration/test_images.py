"""The two images' recipes: the worker's (Dockerfile) and the dashboard's slim one
(deploy/dashboard.Dockerfile). Both install the versions the tests ran with
(deploy/constraints.txt, written by scripts/constraints.py from this environment) and copy every
package of the project."""

from __future__ import annotations

import importlib.util
import json
import re
import shlex
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
WORKER = ROOT / "Dockerfile"
DASHBOARD = ROOT / "deploy" / "dashboard.Dockerfile"
CONSTRAINTS = ROOT / "deploy" / "constraints.txt"


def instructions(path: Path) -> list[tuple[str, str]]:
    text = path.read_text(encoding="utf-8").replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1])
        for line in lines
        if line and not line.startswith("#")
    ]


def _constraints_module():
    spec = importlib.util.spec_from_file_location("constraints", ROOT / "scripts/constraints.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def pins() -> dict[str, str]:
    lines = CONSTRAINTS.read_text(encoding="utf-8").splitlines()
    found = dict(line.split("==") for line in lines if line and not line.startswith("#"))
    assert found, "no pins"
    return found


def test_the_constraints_are_the_tested_environment():
    constraints = _constraints_module()
    wanted = constraints.render(constraints.closure(constraints.project_requirements()))
    assert CONSTRAINTS.read_text(encoding="utf-8") == wanted, (
        "deploy/constraints.txt differs from this environment: run scripts/constraints.py"
    )
    for name in ("optuna", "optuna-dashboard", "transformers", "boto3", "psycopg-binary"):
        assert name in pins(), name
    assert not {n for n in pins() if n == "triton" or n.startswith("nvidia-")}


def test_the_worker_image_installs_the_tested_torch_on_the_tested_python():
    """torch is pinned without its local label, so the CUDA wheel of the tested version meets it;
    both images start from the Python the tests ran on."""
    tested = metadata.version("torch").split("+")[0]
    assert pins()["torch"] == tested
    run = [rest for key, rest in instructions(WORKER) if key == "RUN" and "pip install" in rest]
    (install,) = [p for r in run for p in r.split("&&") if "pip install" in p]
    assert "torch" in shlex.split(install) and "-c constraints.txt" in install, install
    assert "torch.version.cuda" in " ".join(run)  # the build fails on a CPU-only torch
    python = ".".join(map(str, sys.version_info[:3]))
    for dockerfile in (WORKER, DASHBOARD):
        base = next(rest for key, rest in instructions(dockerfile) if key == "FROM")
        assert base == f"python:{python}-slim", f"{dockerfile.name}: {base}, tested on {python}"


@pytest.mark.parametrize("dockerfile", [WORKER, DASHBOARD], ids=["worker", "dashboard"])
def test_images_install_the_pinned_versions_of_every_package(dockerfile):
    steps = instructions(dockerfile)
    copies = [rest.split() for key, rest in steps if key == "COPY"]
    assert any("deploy/constraints.txt" in c[:-1] for c in copies), "constraints not copied"
    installs = [rest for key, rest in steps if key == "RUN" and "pip install" in rest]
    assert installs
    for command in installs:
        for part in command.split("&&"):
            if "pip install" in part:
                assert "-c constraints.txt" in part or "--no-deps" in part, part
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    packages = [p.rstrip("*") for p in project["tool"]["setuptools"]["packages"]["find"]["include"]]
    copied = {c[0] for c in copies}
    assert set(packages) <= copied, f"{dockerfile.name} leaves out {set(packages) - copied}"


def test_the_dashboard_image_is_slim_and_runs_search_dashboard():
    steps = instructions(DASHBOARD)
    base = next(rest for key, rest in steps if key == "FROM")
    assert re.fullmatch(r"python:3\.\d+\.\d+-slim", base), base
    run = " ".join(rest for key, rest in steps if key == "RUN")
    assert "torch" not in run.replace("'torch' not in sys.modules", "")
    pip = next(p for p in run.split("&&") if "-c constraints.txt" in p)
    wanted = [re.sub(r"\[.*\]", "", w.strip('"')) for w in shlex.split(pip)[4:]]
    missing = [w for w in wanted if w not in pins()]
    assert not missing, f"not pinned: {missing}"
    entrypoint = json.loads(next(rest for key, rest in reversed(steps) if key == "ENTRYPOINT"))
    assert entrypoint == ["python", "-m", "search.dashboard"]
    user = next(rest for key, rest in reversed(steps) if key == "USER")
    assert user.split(":")[0] not in {"root", "0"}


def test_the_worker_image_numbers_gpus_as_nvidia_smi_does():
    env = " ".join(rest for key, rest in instructions(WORKER) if key == "ENV")
    assert "CUDA_DEVICE_ORDER=PCI_BUS_ID" in env
    run = " ".join(rest for key, rest in instructions(WORKER) if key == "RUN")
    assert '".[s3]"' in run  # boto3 for s3:// artifacts
