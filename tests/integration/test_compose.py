"""docker-compose.yml and the Dockerfiles, kept honest without a Docker engine.

The files are parsed, not run: every flag the services pass must be one ``search.run`` (or
``search.dashboard``) accepts, every variable must have a default and be documented, the services
must wait for each other, and the worker, the study creation and the dashboard must point at
the same database and artifact store. Debian's ``docker-compose config`` (1.29) checks the file
against the compose schema where it is installed.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy.engine import make_url

from search._config import parse_objectives
from search._sampling import SAMPLERS
from search.dashboard import build_parser as dashboard_parser
from search.pruning._pruner import PRUNERS
from search.run import build_parser
from storage._artifacts import parse_s3
from storage._urls import storage_kind
from tests.integration.conftest import server_missing

yaml = pytest.importorskip("yaml", reason="PyYAML comes with transformers")

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
# $$ is compose's escaped dollar; ${NAME...} and $NAME are variables.
_VARIABLE = re.compile(r"\$\$|\$\{([^}]*)\}|\$(\w+)")
_DEFAULTED = re.compile(r"(\w+)(:?-)(.*)", re.DOTALL)
# search.run flags whose values differ on purpose between the study creation and the worker.
_PER_SERVICE = {
    "--create-only", "--trials", "--total", "--quiet", "--workers", "--devices", "--timeout",
    "--worker-logs",
}  # fmt: skip


def interpolate(text: str, seen: set[str] | None = None) -> str:
    """``text`` as compose renders it with no variable set: each variable becomes its default.

    Fails on a variable without a default (``${X}``, ``$X``, ``${X:?error}``).
    """

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        body = match.group(1)
        if body is None:
            raise AssertionError(f"${match.group(2)}: use ${{{match.group(2)}:-default}}")
        defaulted = _DEFAULTED.fullmatch(body)
        if defaulted is None:
            raise AssertionError(f"${{{body}}}: no default; use ${{{body}:-default}}")
        if seen is not None:
            seen.add(defaulted.group(1))
        return defaulted.group(3)

    return _VARIABLE.sub(replace, text)


def rendered(value, seen: set[str] | None = None):
    """Interpolate every string in a parsed YAML tree."""
    if isinstance(value, str):
        return interpolate(value, seen)
    if isinstance(value, list):
        return [rendered(v, seen) for v in value]
    if isinstance(value, dict):
        return {k: rendered(v, seen) for k, v in value.items()}
    return value


@pytest.fixture(scope="module")
def compose() -> dict:
    return rendered(yaml.safe_load(COMPOSE.read_text(encoding="utf-8")))


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


def command(service: dict) -> list[str]:
    value = service["command"]
    return shlex.split(value) if isinstance(value, str) else [str(v) for v in value]


def flag_values(argv: list[str]) -> dict[str, str | None]:
    """``--flag value`` pairs (``None`` for a switch), as search.run's parser reads them."""
    actions = {s: a for a in build_parser()._actions for s in a.option_strings}
    values: dict[str, str | None] = {}
    i = 0
    while i < len(argv):
        flag = argv[i]
        assert flag in actions, f"{flag!r} is not an option of python -m search.run"
        takes_value = actions[flag].nargs != 0
        values[flag] = argv[i + 1] if takes_value else None
        i += 2 if takes_value else 1
    return values


def test_services_exist(services):
    assert {"postgres", "minio", "bucket", "create-study", "worker", "dashboard"} <= set(services)


def test_postgres_is_healthchecked_persistent_and_local(services, compose):
    postgres = services["postgres"]
    assert postgres["image"].startswith("postgres:")  # the version: test_image_pins.py
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    volume = next(v.split(":")[0] for v in postgres["volumes"] if "/var/lib/postgresql" in v)
    assert volume in compose["volumes"], "Postgres data must live in a named volume"
    for port in postgres.get("ports", []):
        assert str(port).startswith("127.0.0.1:"), f"postgres published beyond localhost: {port}"


def test_minio_is_pinned_healthchecked_persistent_and_local(services, compose):
    minio = services["minio"]
    image, _, tag = minio["image"].partition(":")
    assert image == "minio/minio" and tag.startswith("RELEASE."), minio["image"]
    assert services["bucket"]["image"] == minio["image"]
    assert minio["healthcheck"]["test"] == ["CMD", "mc", "ready", "local"]
    volume = next(v.split(":")[0] for v in minio["volumes"] if v.endswith(":/data"))
    assert volume in compose["volumes"], "MinIO data must live in a named volume"
    for port in minio["ports"]:
        assert str(port).startswith("127.0.0.1:"), f"minio published beyond localhost: {port}"


def test_passwords_only_through_the_environment():
    raw = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    assert raw["services"]["postgres"]["environment"]["POSTGRES_PASSWORD"].startswith(
        "${POSTGRES_PASSWORD:-"
    )
    for name, service in raw["services"].items():
        for part in command(service) if "command" in service else []:
            for url in re.findall(r"[\w+.-]+://[^\s\"'}]+", part):
                assert urlsplit(url).password is None, f"{name}: a password in its command"


def test_services_start_in_order(services):
    assert services["create-study"]["depends_on"] == {
        "postgres": {"condition": "service_healthy"},
        "bucket": {"condition": "service_completed_successfully"},
    }
    assert services["bucket"]["depends_on"] == {"minio": {"condition": "service_healthy"}}
    assert services["create-study"]["restart"] == services["bucket"]["restart"] == "no"
    for name in ("worker", "dashboard"):
        condition = services[name]["depends_on"]["create-study"]["condition"]
        assert condition == "service_completed_successfully", name


GPU_SERVICES = [f"gpu{n}" for n in range(8)]


def test_worker_reserves_every_gpu_and_each_gpu_service_one(services):
    (gpu,) = services["worker"]["deploy"]["resources"]["reservations"]["devices"]
    assert gpu["driver"] == "nvidia" and "gpu" in gpu["capabilities"]
    assert gpu["count"] == "all" and "device_ids" not in gpu
    # inside, search.run starts one process per GPU the container sees
    assert "--workers" not in command(services["worker"])
    assert "--devices" not in command(services["worker"])
    for n, name in enumerate(GPU_SERVICES):
        service = services[name]
        (gpu,) = service["deploy"]["resources"]["reservations"]["devices"]
        assert gpu["device_ids"] == [str(n)] and "count" not in gpu, name
        assert service["profiles"] == ["per-gpu"], name  # started only when named
        assert command(service) == command(services["worker"]), name
        assert service["depends_on"] == services["worker"]["depends_on"], name


def test_worker_logs_go_to_the_container_output(services):
    values = flag_values(command(services["worker"]))
    assert values["--worker-logs"] == "-"
    assert "--quiet" not in values  # the progress line: one per finished trial in a pipe


def test_dashboard_is_slim_and_published_on_localhost_only(services):
    dashboard = services["dashboard"]
    assert dashboard["build"]["dockerfile"] == "deploy/dashboard.Dockerfile"
    assert "entrypoint" not in dashboard  # the image's: python -m search.dashboard
    assert dashboard["ports"], "the dashboard is not published"
    for port in dashboard["ports"]:
        assert str(port).startswith("127.0.0.1:"), port
    args = dashboard_parser().parse_args(command(dashboard))
    assert args.host == "0.0.0.0"  # inside the container only
    assert args.port == 8080


@pytest.mark.parametrize("name", ["create-study", "worker"])
def test_search_commands_parse(services, name):
    argv = command(services[name])
    values = flag_values(argv)
    args = build_parser().parse_args(argv)  # types too: --trials must be an integer
    assert values.get("--sampler", "tpe") in SAMPLERS
    assert values.get("--pruner", "moasha") in PRUNERS
    parse_objectives(values.get("--objectives", "f1,auprc"))
    assert storage_kind(args.storage) == "postgresql"
    assert args.create_only == (name == "create-study")
    if name == "worker":
        assert args.total >= 1  # the study's count: a worker started again adds nothing


def test_study_creation_matches_the_worker(services):
    """A flag the two disagree on would record one model or data set and train another."""
    create = flag_values(command(services["create-study"]))
    worker = flag_values(command(services["worker"]))
    shared = (set(create) | set(worker)) - _PER_SERVICE
    assert {"--storage", "--study", "--model", "--train", "--dev"} <= shared
    for flag in sorted(shared):
        assert create.get(flag) == worker.get(flag), flag


def test_everyone_uses_one_database_and_artifact_store(services):
    worker = flag_values(command(services["worker"]))
    dashboard = dashboard_parser().parse_args(command(services["dashboard"]))
    urls = [worker["--storage"], dashboard.storage]
    for url in urls:
        assert storage_kind(url) == "postgresql"
        # SQLAlchemy before 2.1 reads a bare postgresql:// as psycopg2, which is not installed
        assert make_url(url).drivername == "postgresql+psycopg", url
    where = [(make_url(u).host, make_url(u).database, make_url(u).username) for u in urls]
    assert where[0] == where[1] == ("postgres", "re", "re")
    assert worker["--artifacts"] == dashboard.artifacts
    env = [services[name]["environment"] for name in ("create-study", "worker", "dashboard")]
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ENDPOINT_URL"):
        assert env[0][name] == env[1][name] == env[2][name], name


def test_the_artifact_bucket_is_made_in_minio_with_its_credentials(services):
    bucket, prefix = parse_s3(flag_values(command(services["worker"]))["--artifacts"])
    assert prefix
    script = " ".join(command(services["bucket"]))
    assert f"mc mb --ignore-existing local/{bucket}" in script
    assert "http://minio:9000" in script
    env = services["worker"]["environment"]
    assert env["AWS_ENDPOINT_URL"] == "http://minio:9000"
    minio = services["minio"]["environment"]
    assert env["AWS_ACCESS_KEY_ID"] == minio["MINIO_ROOT_USER"]
    assert env["AWS_SECRET_ACCESS_KEY"] == minio["MINIO_ROOT_PASSWORD"]
    raw = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))["services"]
    assert raw["minio"]["environment"]["MINIO_ROOT_PASSWORD"].startswith("${MINIO_PASSWORD:-")


def _docker_compose(*args: str, **env: str) -> subprocess.CompletedProcess:
    found = shutil.which("docker-compose")
    if found is None:
        server_missing("no docker-compose (Debian's docker-compose package) to check the file")
    return subprocess.run(
        [found, "-f", str(COMPOSE), *args],
        capture_output=True,
        text=True,
        env={"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/"), **env},
        timeout=120,
    )


def test_docker_compose_accepts_the_file_and_renders_devices():
    """The real parser and schema: each GPU reservation renders as Docker takes it, a list of
    single GPU ids (or a count)."""
    default = _docker_compose("config")
    assert default.returncode == 0, default.stderr
    assert "WARNING" not in default.stderr, default.stderr  # e.g. a variable without default
    rendered_default = yaml.safe_load(default.stdout)["services"]
    reservations = {
        name: service["deploy"]["resources"]["reservations"]["devices"]
        for name, service in rendered_default.items()
        if "deploy" in service
    }
    assert set(reservations) == {"worker", *GPU_SERVICES}
    assert reservations["worker"] == [{"capabilities": ["gpu"], "count": "all", "driver": "nvidia"}]
    for n, name in enumerate(GPU_SERVICES):
        (gpu,) = reservations[name]
        assert gpu["device_ids"] == [str(n)], name
        assert all(re.fullmatch(r"\d+", i) for i in gpu["device_ids"]), name
    ours = rendered(yaml.safe_load(COMPOSE.read_text(encoding="utf-8")))["services"]
    for name in ("create-study", "worker", "dashboard", "bucket", *GPU_SERVICES):
        theirs = [interpolate(part) for part in command(rendered_default[name])]  # $$ kept
        assert theirs == command(ours[name]), name
    total = _docker_compose("config", TOTAL="300")
    flags = flag_values(command(yaml.safe_load(total.stdout)["services"]["gpu3"]))
    assert flags["--total"] == "300"


def test_every_variable_has_a_default_and_is_documented():
    text = COMPOSE.read_text(encoding="utf-8")
    names: set[str] = set()
    rendered(yaml.safe_load(text), names)
    header = "\n".join(line for line in text.splitlines() if line.startswith("#"))
    assert names, "no variables found: the check would prove nothing"
    undocumented = sorted(n for n in names if not re.search(rf"\b{n}\b", header))
    assert not undocumented, f"not described in the header comment: {undocumented}"


def test_interpolate_rejects_a_variable_without_default():
    assert interpolate("a ${X:-1} $${Y}") == "a 1 ${Y}"
    for text in ("${X}", "$X", "${X:?set X}"):
        with pytest.raises(AssertionError):
            interpolate(text)


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = DOCKERFILE.read_text(encoding="utf-8").replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1])
        for line in lines
        if line and not line.startswith("#")
    ]


def test_dockerfile_runs_search_run_as_a_user_on_cuda_torch(services):
    instructions = dockerfile_instructions()
    args = {k: v for key, rest in instructions if key == "ARG" for k, _, v in [rest.partition("=")]}
    base = next(rest for key, rest in instructions if key == "FROM")
    base = re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], base)
    assert base.startswith("python:3."), base  # CUDA torch: test_images.py
    assert "torch.version.cuda" in " ".join(rest for key, rest in instructions if key == "RUN")
    entrypoint = next(rest for key, rest in reversed(instructions) if key == "ENTRYPOINT")
    argv = exec_form(entrypoint)
    assert argv[:2] == ["python", "-m"]
    assert importlib.util.find_spec(argv[2]) is not None, argv[2]
    user = next(rest for key, rest in reversed(instructions) if key == "USER")
    assert user.split(":")[0] not in {"root", "0"}
    env = " ".join(rest for key, rest in instructions if key == "ENV")
    for setting in ("HF_HOME=/cache/hf", "RE_SEARCH_CACHE=/cache/re-search"):
        assert setting in env
    assert "TOKENIZERS_PARALLELISM=false" in env
    # the caches must outlive the container: on a volume of the worker
    mounts = [v.split(":")[1] for v in services["worker"]["volumes"]]
    assert any("/cache/hf".startswith(m) for m in mounts)


def exec_form(text: str) -> list[str]:
    value = json.loads(text)
    assert isinstance(value, list), f"not in exec form: {text}"
    return value


def test_dockerignore_keeps_the_venv_out_of_the_build_context():
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert ".venv" in ignored
    assert ".git" in ignored
