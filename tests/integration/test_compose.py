"""docker-compose.yml and the Dockerfile, kept honest without a Docker engine.

The files are parsed, not run: every flag the services pass must be one ``search.run`` (or
optuna-dashboard) accepts, every variable must have a default and be documented, the services
must wait for each other, and the worker, the study creation and the dashboard must point at
the same database and artifact directory.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shlex
import sys
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from search.config import parse_objectives
from search.pruning.stoppers import PRUNERS
from search.run import build_parser
from search.sampling import SAMPLERS
from storage.urls import storage_kind

yaml = pytest.importorskip("yaml", reason="PyYAML comes with transformers")

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
# $$ is compose's escaped dollar; ${NAME...} and $NAME are variables.
_VARIABLE = re.compile(r"\$\$|\$\{([^}]*)\}|\$(\w+)")
_DEFAULTED = re.compile(r"(\w+)(:?-)(.*)", re.DOTALL)
# search.run flags whose values differ on purpose between the study creation and the worker.
_PER_SERVICE = {"--create-only", "--trials", "--quiet", "--workers", "--devices", "--timeout"}


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
    assert {"postgres", "create-study", "worker", "dashboard"} <= set(services)


def test_postgres_is_healthchecked_persistent_and_local(services, compose):
    postgres = services["postgres"]
    assert postgres["image"].startswith("postgres:16")
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    volume = next(v.split(":")[0] for v in postgres["volumes"] if "/var/lib/postgresql" in v)
    assert volume in compose["volumes"], "Postgres data must live in a named volume"
    for port in postgres.get("ports", []):
        assert str(port).startswith("127.0.0.1:"), f"postgres published beyond localhost: {port}"


def test_passwords_only_through_the_environment():
    raw = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    assert raw["services"]["postgres"]["environment"]["POSTGRES_PASSWORD"].startswith(
        "${POSTGRES_PASSWORD:-"
    )
    for name, service in raw["services"].items():
        for part in command(service) if "command" in service else []:
            if "://" in part:
                assert make_url(part).password is None, f"{name}: a password in its command"


def test_services_start_in_order(services):
    assert services["create-study"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert services["create-study"]["restart"] == "no"
    for name in ("worker", "dashboard"):
        condition = services[name]["depends_on"]["create-study"]["condition"]
        assert condition == "service_completed_successfully", name


def test_worker_reserves_nvidia_gpus(services):
    devices = services["worker"]["deploy"]["resources"]["reservations"]["devices"]
    assert len(devices) == 1
    gpu = devices[0]
    assert gpu["driver"] == "nvidia"
    assert "gpu" in gpu["capabilities"]
    # Docker hands a `count: N` reservation the first N GPUs, so replicas of `count: 1` would
    # all train on GPU 0; the worker takes them all and search.run runs one process per GPU.
    assert gpu["count"] == "all"
    assert "--workers" not in command(services["worker"])
    assert "--devices" not in command(services["worker"])


def test_dashboard_is_published_on_localhost_only(services):
    dashboard = services["dashboard"]
    assert dashboard["entrypoint"] == ["optuna-dashboard"]
    assert dashboard["ports"], "the dashboard is not published"
    for port in dashboard["ports"]:
        assert str(port).startswith("127.0.0.1:"), port
    argv = command(dashboard)
    assert argv[argv.index("--host") + 1] == "0.0.0.0"  # inside the container only


def test_dashboard_flags_exist(monkeypatch, capsys):
    cli = pytest.importorskip("optuna_dashboard._cli")
    monkeypatch.setattr(sys, "argv", ["optuna-dashboard", "--help"])
    with pytest.raises(SystemExit):
        cli.main()
    help_text = capsys.readouterr().out
    raw = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    flags = [part for part in command(raw["services"]["dashboard"]) if part.startswith("--")]
    assert flags
    for flag in flags:
        assert re.search(rf"{flag}\b", help_text), f"optuna-dashboard has no {flag}"


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
        assert args.trials >= 1


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
    dashboard = command(services["dashboard"])
    urls = [worker["--storage"], dashboard[0]]
    for url in urls:
        assert storage_kind(url) == "postgresql"
        # SQLAlchemy before 2.1 reads a bare postgresql:// as psycopg2, which is not installed
        assert make_url(url).drivername == "postgresql+psycopg", url
    where = [(make_url(u).host, make_url(u).database, make_url(u).username) for u in urls]
    assert where[0] == where[1] == ("postgres", "re", "re")
    artifacts = dashboard[dashboard.index("--artifact-dir") + 1]
    assert worker["--artifacts"] == artifacts
    mounts = {v.split(":")[1]: v.split(":")[0] for v in services["worker"]["volumes"]}
    dashboard_mounts = {v.split(":")[1]: v.split(":")[0] for v in services["dashboard"]["volumes"]}
    shared = [m for m in mounts if artifacts.startswith(m + "/")]
    assert shared, f"{artifacts} is not on a worker volume"
    assert dashboard_mounts.get(shared[0]) == mounts[shared[0]], "dashboard sees other artifacts"


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
    assert base.startswith("pytorch/pytorch:2.") and "cuda" in base, base
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
