"""Every image that docker-compose.yml and deploy/k8s/ run is pinned to an exact version or a
digest, the project's own images carry the project's version, and the database image is the
PostgreSQL release the tests ran against."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

yaml = pytest.importorskip("yaml", reason="PyYAML comes with transformers")

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
OURS = ("re-search", "re-search-dashboard")
# 15.20, 3.11.7-slim, RELEASE.2025-04-22T22-12-26Z: a release, not a moving major or "latest"
_EXACT_TAG = re.compile(r"\d+\.\d+(\.\d+)?(-[\w.]+)?|RELEASE\.\d{4}-\d\d-\d\dT[\w-]+")


def project_version() -> str:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"][
        "version"
    ]


def compose_images() -> dict[str, str]:
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    return {f"compose {name}": s["image"] for name, s in services["services"].items()}


def k8s_images() -> dict[str, str]:
    """container -> image as kustomize renders it (its ``images`` tags applied)."""
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text(encoding="utf-8"))
    tags = {i["name"]: i for i in kustomization.get("images", [])}
    found = {}
    for file in kustomization["resources"]:
        for doc in yaml.safe_load_all((K8S / file).read_text(encoding="utf-8")):
            pod = doc.get("spec", {}).get("template", {}).get("spec", {})
            for container in pod.get("initContainers", []) + pod.get("containers", []):
                image = container["image"]
                override = tags.get(image.split(":")[0].split("@")[0])
                if override is not None:
                    name = override.get("newName", image.split(":")[0])
                    image = (
                        f"{name}@{override['digest']}"
                        if "digest" in override
                        else f"{name}:{override['newTag']}"
                    )
                found[f"k8s {doc['metadata']['name']}/{container['name']}"] = image
    return found


def all_images() -> dict[str, str]:
    images = {**compose_images(), **k8s_images()}
    assert len(images) >= 10, images  # both files were read
    return images


def is_pinned(image: str) -> bool:
    if re.search(r"@sha256:[0-9a-f]{64}$", image):
        return True
    tag = image.rsplit(":", 1)[1] if ":" in image.rsplit("/", 1)[-1] else ""
    return bool(_EXACT_TAG.fullmatch(tag))


def test_is_pinned_tells_a_release_from_a_moving_tag():
    for image in ("postgres:15.20", "minio/minio:RELEASE.2025-04-22T22-12-26Z", "re:0.1.0"):
        assert is_pinned(image), image
    assert is_pinned("postgres@sha256:" + "a" * 64)
    for image in ("postgres:16", "postgres", "re-search:latest", "localhost:5000/re"):
        assert not is_pinned(image), image


def test_every_image_is_pinned_to_a_release_or_digest():
    loose = {where: image for where, image in all_images().items() if not is_pinned(image)}
    assert not loose, f"not pinned to an exact version or digest: {loose}"


def test_the_project_images_carry_the_project_version():
    version = project_version()
    for where, image in all_images().items():
        name, _, tag = image.partition(":")
        if name in OURS:
            assert tag == version, f"{where}: {image}, the project is {version}"


def test_the_database_image_is_the_tested_postgres(postgres_admin):
    tested = postgres_admin.execute("SHOW server_version").fetchone()[0].split()[0]
    for where, image in all_images().items():
        if image.split(":")[0] == "postgres":
            assert image == f"postgres:{tested}", f"{where}: {image}, tests ran on {tested}"
