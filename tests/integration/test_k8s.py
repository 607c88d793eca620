"""deploy/k8s/, checked offline: every manifest against the Kubernetes API schemas (the
``kubernetes-validate`` package, strict), and against the project: the Jobs' arguments are flags
``search.run`` accepts once the ConfigMap fills them in, the study creation and the workers
agree, one GPU per worker pod, every Secret and ConfigMap key that is read exists, and the
Services reach the pods they name."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from search.dashboard import build_parser as dashboard_parser
from search.run import build_parser
from storage._artifacts import parse_s3
from storage._urls import storage_kind
from tests.integration.conftest import server_missing

yaml = pytest.importorskip("yaml", reason="PyYAML comes with transformers")

pytestmark = pytest.mark.integration

K8S = Path(__file__).resolve().parents[2] / "deploy" / "k8s"
# search.run flags that differ on purpose between the study creation and the workers
PER_POD = {"--create-only", "--trials", "--total", "--workers"}
_REFERENCE = re.compile(r"\$\((\w+)\)")


@pytest.fixture(scope="module")
def kustomization() -> dict:
    return yaml.safe_load((K8S / "kustomization.yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def objects(kustomization) -> dict[tuple[str, str], dict]:
    """(kind, name) -> manifest, from the files kustomization.yaml applies."""
    found = {}
    for name in kustomization["resources"]:
        for doc in yaml.safe_load_all((K8S / name).read_text(encoding="utf-8")):
            key = (doc["kind"], doc["metadata"]["name"])
            assert key not in found, f"{key} defined twice"
            found[key] = doc
    return found


def test_kustomization_applies_every_manifest(kustomization):
    files = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    assert set(kustomization["resources"]) == files


def test_manifests_match_the_kubernetes_schemas(objects):
    try:
        import kubernetes_validate
    except ImportError:
        server_missing("no kubernetes-validate: install the dev extras (scripts/setup.sh dev)")
    version = kubernetes_validate.latest_version()
    errors = []
    for key, doc in objects.items():
        try:
            kubernetes_validate.validate(doc, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            errors.append(f"{key}: {exc.message} at {'.'.join(map(str, exc.path))}")
    assert not errors, "\n".join(errors)


def _pod(job_or_deployment: dict) -> dict:
    return job_or_deployment["spec"]["template"]["spec"]


def _container(objects, kind: str, name: str) -> dict:
    return _pod(objects[(kind, name)])["containers"][0]


def _config(objects) -> dict[str, str]:
    return objects[("ConfigMap", "re-search")]["data"]


def _args(objects, container: dict) -> list[str]:
    """The container's arguments as the kubelet expands them from its environment."""
    config = _config(objects)
    env = {e["name"]: e.get("value") for e in container.get("env", [])}

    def expand(match: re.Match[str]) -> str:
        name = match.group(1)
        assert name in config or env.get(name) is not None, f"$({name}) is not set"
        return env.get(name) or config[name]

    return [_REFERENCE.sub(expand, str(arg)) for arg in container.get("args", [])]


def test_one_gpu_per_worker_pod_and_n_pods(objects):
    job = objects[("Job", "workers")]
    assert job["spec"]["completions"] == job["spec"]["parallelism"] >= 2
    assert _pod(job)["restartPolicy"] == "Never"
    worker = _container(objects, "Job", "workers")
    assert worker["resources"]["limits"]["nvidia.com/gpu"] == 1
    assert build_parser().parse_args(_args(objects, worker)).workers == 1
    for kind, name in (("Job", "create-study"), ("Deployment", "dashboard")):
        limits = _container(objects, kind, name).get("resources", {}).get("limits", {})
        assert "nvidia.com/gpu" not in limits, name


def _containers(objects):
    for (kind, name), doc in objects.items():
        if kind in ("Job", "Deployment"):
            pod = _pod(doc)
            for container in pod.get("initContainers", []) + pod["containers"]:
                yield f"{name}/{container['name']}", container


def test_every_container_requests_and_limits_cpu_and_memory(objects):
    found = dict(_containers(objects))
    assert len(found) >= 8, found
    for where, container in found.items():
        resources = container.get("resources", {})
        for part in ("requests", "limits"):
            assert {"cpu", "memory"} <= set(resources.get(part, {})), f"{where}: no {part}"
    worker = found["workers/worker"]["resources"]
    assert worker["requests"]["nvidia.com/gpu"] == worker["limits"]["nvidia.com/gpu"] == 1


def test_a_replaced_worker_pod_keeps_the_studys_count(objects):
    """Every pod runs to the same total, so a pod replaced after a failure (backoffLimit > 0)
    runs only what is missing (tests/search/test_target.py runs that twice on one study)."""
    job = objects[("Job", "workers")]
    assert job["spec"]["backoffLimit"] >= 1
    worker = build_parser().parse_args(_args(objects, _container(objects, "Job", "workers")))
    assert worker.total == int(_config(objects)["TOTAL"])
    assert "--trials" not in _container(objects, "Job", "workers")["args"]


def test_the_dashboard_has_startup_readiness_and_liveness_probes(objects):
    container = _container(objects, "Deployment", "dashboard")
    port = dashboard_parser().parse_args(_args(objects, container)).port
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        check = container[probe]
        target = check.get("httpGet") or check.get("tcpSocket")
        assert target["port"] == port, probe
    assert container["readinessProbe"]["httpGet"]["path"] == "/api/studies"  # reads the study


def test_the_study_creation_and_the_workers_agree(objects):
    create = build_parser().parse_args(_args(objects, _container(objects, "Job", "create-study")))
    worker = build_parser().parse_args(_args(objects, _container(objects, "Job", "workers")))
    assert create.create_only and not worker.create_only
    assert worker.total >= 1  # the study's count: a replaced pod does not add to it
    for flag in ("storage", "study", "model", "train", "dev", "objectives", "sampler", "pruner"):
        assert getattr(create, flag) == getattr(worker, flag), flag
    assert create.artifacts == worker.artifacts
    bucket, prefix = parse_s3(worker.artifacts)
    assert prefix and parse_s3(_config(objects)["DATA_URL"])[0] == bucket
    for path in (worker.train, worker.dev):
        mounts = [m["mountPath"] for m in _container(objects, "Job", "workers")["volumeMounts"]]
        assert any(str(path).startswith(m + "/") for m in mounts), path


def test_the_dashboard_serves_the_same_study_and_store(objects):
    worker = build_parser().parse_args(_args(objects, _container(objects, "Job", "workers")))
    container = _container(objects, "Deployment", "dashboard")
    args = dashboard_parser().parse_args(_args(objects, container))
    assert (args.storage, args.artifacts) == (worker.storage, worker.artifacts)
    assert args.host == "0.0.0.0"
    assert container["image"] == "re-search-dashboard"
    service = objects[("Service", "dashboard")]
    assert service["spec"]["type"] == "ClusterIP"
    assert service["spec"]["ports"][0]["targetPort"] == args.port


def test_passwords_only_in_the_secret(objects):
    config = _config(objects)
    url = config["STORAGE"]
    assert storage_kind(url) == "postgresql" and urlsplit(url).password is None
    secret = objects[("Secret", "re-search")]["stringData"]
    for (kind, name), doc in objects.items():
        if kind not in ("Job", "Deployment"):
            continue
        pod = _pod(doc)
        for container in pod.get("initContainers", []) + pod["containers"]:
            for ref in container.get("envFrom", []):
                if "secretRef" in ref:
                    assert ref["secretRef"]["name"] == "re-search"
                else:
                    assert ref["configMapRef"]["name"] == "re-search"
            for env in container.get("env", []):
                key = env.get("valueFrom", {}).get("secretKeyRef", {})
                if key:
                    assert key["name"] == "re-search" and key["key"] in secret, (name, key)
                assert "password" not in env["name"].lower() or "valueFrom" in env, (name, env)


def test_services_reach_their_pods_at_the_configured_addresses(objects):
    config = _config(objects)
    addresses = {
        "postgres": urlsplit(config["STORAGE"].replace("+psycopg", "")),
        "minio": urlsplit(config["AWS_ENDPOINT_URL"]),
    }
    for name, address in addresses.items():
        service = objects[("Service", name)]["spec"]
        assert address.hostname == name and address.port == service["ports"][0]["port"], name
    for (kind, name), doc in objects.items():
        if kind != "Service":
            continue
        deployment = objects[("Deployment", name)]
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert doc["spec"]["selector"].items() <= labels.items(), name
        ports = {p["containerPort"] for c in _pod(deployment)["containers"] for p in c["ports"]}
        assert doc["spec"]["ports"][0]["targetPort"] in ports, name


def test_images_are_ours_or_pinned(objects, kustomization):
    ours = {image["name"] for image in kustomization["images"]}
    assert ours == {"re-search", "re-search-dashboard"}
    for (kind, name), doc in objects.items():
        if kind not in ("Job", "Deployment"):
            continue
        pod = _pod(doc)
        for container in pod.get("initContainers", []) + pod["containers"]:
            image = container["image"]
            tag = image.partition(":")[2]
            assert image in ours or (tag and tag != "latest"), f"{name}: {image} is not pinned"
