"""The floor plan's rules, checked on the source: no import cycles (lazy imports included), the
training package never imports Optuna or the service, storage never imports the training code,
no production module or function grows past what a reader can hold, and every module that is
not a command or a package face is private."""

import ast
from pathlib import Path

import pytest

from docsgen.sources import COMMANDS, NOT_COMMANDS

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("common", "objectives", "search", "storage")
MAX_MODULE_LINES = 300
MAX_FUNCTION_LINES = 50
# Data, not logic: the sample data's sentence templates.
DATA_MODULES = {"objectives/data/_sample_templates.py"}
# Still to be split: each may only shrink (its ceiling here is its size when it was listed).
NOT_YET_SPLIT: dict[str, int] = {}


def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def imports(path: Path, known: set[str]) -> set[str]:
    """Project modules ``path`` imports anywhere in its body, resolved to module names."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [f"{node.module}.{alias.name}" for alias in node.names] + [node.module]
        else:
            continue
        for name in names:
            while name and name not in known:
                name = name.rpartition(".")[0]
            if name and name.split(".")[0] in PACKAGES:
                out.add(name)
    return out


def graph() -> dict[str, set[str]]:
    found = modules()
    known = set(found)
    return {name: imports(path, known) - {name} for name, path in found.items()}


def test_no_import_cycles():
    edges = graph()
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for target in sorted(edges.get(node, ())):
            if state.get(target) == 1:
                cycle = [*stack[stack.index(target) :], target]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if target not in state:
                visit(target)
        stack.pop()
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node)


def test_layers():
    for name, targets in graph().items():
        if name.startswith("objectives"):
            assert not [t for t in targets if t.startswith(("search", "storage"))], name
        if name.startswith("storage"):
            assert not [t for t in targets if t.startswith("objectives")], name
    for path in (ROOT / "objectives").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "import optuna" not in text and "from optuna" not in text, path


def test_modules_and_functions_stay_small():
    too_long = []
    for path in modules().values():
        relative = path.relative_to(ROOT).as_posix()
        source = path.read_text(encoding="utf-8")
        lines = source.count("\n")
        limit = NOT_YET_SPLIT.get(relative, MAX_MODULE_LINES)
        if lines > limit and relative not in DATA_MODULES:
            too_long.append(f"{relative}: {lines} lines")
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = node.end_lineno - node.lineno + 1
                if length > NOT_YET_SPLIT.get(f"{relative}:{node.name}", MAX_FUNCTION_LINES):
                    too_long.append(f"{relative}:{node.lineno} {node.name}: {length} lines")
    assert not too_long, "\n".join(sorted(too_long))


# The one module that may reach into Optuna beyond its public API.
OPTUNA_ADAPTER = "storage/_optuna.py"


def _optuna_private_names() -> set[str]:
    """The private attribute names of the Optuna objects this project handles: their classes'
    and those their instances set (read from live objects)."""
    import optuna
    from optuna.storages.journal import JournalFileBackend, JournalRedisBackend

    study = optuna.create_study(storage=optuna.storages.InMemoryStorage())
    trial = study.ask()
    objects = [study, trial, study._storage, trial.study, study.trials[0], study.sampler]
    classes = [
        optuna.Study,
        optuna.Trial,
        optuna.trial.FrozenTrial,
        optuna.storages.BaseStorage,
        optuna.storages.RDBStorage,
        optuna.storages.JournalStorage,
        optuna.storages.InMemoryStorage,
        optuna.storages._CachedStorage,
        optuna.storages.GrpcStorageProxy,
        JournalFileBackend,
        JournalRedisBackend,
        optuna.samplers.TPESampler,
        optuna.pruners.BasePruner,
    ]
    names = {name for cls in classes for name in dir(cls)}
    names |= {name for obj in objects for name in vars(obj)}
    # instance attributes of objects a test cannot cheaply build (a journal file, Redis, gRPC)
    names |= {"_backend", "_file_path", "_redis", "_prefix", "_host", "_port"}
    return {name for name in names if name.startswith("_") and not name.startswith("__")}


def _reaches_into_optuna(tree: ast.AST, private: set[str]) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            parts = node.module.split(".")
            if parts[0] == "optuna" and any(p.startswith("_") for p in parts):
                found.append(f"{node.lineno}: from {node.module} import ...")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "optuna" and any(p.startswith("_") for p in parts):
                    found.append(f"{node.lineno}: import {alias.name}")
        elif isinstance(node, ast.Attribute) and node.attr.startswith("_"):
            owner = node.value
            own = isinstance(owner, ast.Name) and owner.id in ("self", "cls")
            root = owner
            while isinstance(root, ast.Attribute):
                root = root.value
            if isinstance(root, ast.Name) and root.id == "optuna":
                found.append(f"{node.lineno}: optuna...{node.attr}")
            elif node.attr in private and not own:
                found.append(f"{node.lineno}: .{node.attr}")
    return found


def test_only_the_adapter_touches_optunas_private_names():
    private = _optuna_private_names()
    assert {"_storage", "_trial_id", "_cached_frozen_trial", "_study_id"} <= private
    reaching = []
    paths = [*modules().values(), *(ROOT / "bench").rglob("*.py")]
    for path in paths:
        relative = path.relative_to(ROOT).as_posix()
        if relative == OPTUNA_ADAPTER:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        reaching += [f"{relative}:{where}" for where in _reaches_into_optuna(tree, private)]
    assert not reaching, "use storage._optuna instead:\n" + "\n".join(reaching)


def test_the_optuna_check_finds_a_private_reach():
    private = _optuna_private_names()
    source = (
        "from optuna.storages._heartbeat import BaseHeartbeat\n"
        "x = study._storage.get_trial(trial._trial_id)\n"
        "y = optuna.storages._CachedStorage\n"
        "self._storage = None\n"
    )
    found = _reaches_into_optuna(ast.parse(source), private)
    assert sorted(line.split(":")[0] for line in found) == ["1", "2", "2", "3"]


# The modules a user names: the commands (``python -m``), the worker the launcher starts, and the
# fake trial users test their spaces with and the throwaway Postgres cluster fault tests stop and
# start. Every other module is implementation: ``_name.py``.
PUBLIC_MODULES = {*COMMANDS, *NOT_COMMANDS, "search.testing", "storage.testing"}


def test_implementation_modules_are_private():
    found = modules()
    public = sorted(
        f"{path.relative_to(ROOT).as_posix()}: name it _{path.name}, or list it as public"
        for name, path in found.items()
        if not path.name.startswith("_") and name not in PUBLIC_MODULES
    )
    assert not public, "\n".join(public)
    assert not PUBLIC_MODULES - set(found), "listed as public but missing"


def packages() -> list[str]:
    return sorted(name for name, path in modules().items() if path.name == "__init__.py")


@pytest.mark.parametrize("package", packages())
def test_every_package_shows_a_face_whose_names_import(package: str) -> None:
    """``__all__`` in each package names what users may import, and each of them imports."""
    import importlib

    module = importlib.import_module(package)
    assert getattr(module, "__all__", None), f"{package}: no __all__"
    missing = [name for name in module.__all__ if not hasattr(module, name)]
    assert not missing, f"{package}: __all__ names what it cannot give: {missing}"
