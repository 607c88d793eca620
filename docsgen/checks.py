"""What the documentation's hand-written pages may not get wrong: a relative link that leads
nowhere, a command that names a module, script or flag that does not exist."""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from docsgen.commands import option_strings, parser_of
from docsgen.sources import COMMANDS, DOCS, ROOT

FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```", re.M | re.S)
LINK = re.compile(r"\]\(([^)\s]+)\)")
SHELLS = {"bash", "sh", "shell", "console", ""}
# Programs the pages show that are not this project's: only their names are checked.
EXTERNAL = {
    "cd", "export", "git", "docker", "kubectl", "kustomize", "mc", "optuna-dashboard", "optuna",
    "pip", "mkdocs", "pytest", "nvidia-smi", ".", "source",
}  # fmt: skip
WRAPPERS = {"nice": 2, "time": 0, "flock": 1, "exec": 0}


@dataclass(frozen=True)
class Command:
    page: str
    words: list[str]

    def __str__(self) -> str:
        return f"{self.page}: {shlex.join(self.words)}"


def pages() -> list[Path]:
    """README.md and every hand-written page of the site."""
    return [ROOT / "README.md", *sorted(DOCS.rglob("*.md"))]


def commands(page: Path) -> Iterator[Command]:
    """Every simple command of the page's shell blocks: continuations joined, comments, ``&&``,
    ``;``, ``|`` and ``&`` split, environment assignments and wrappers (``nice -n 5``) left out."""
    name = page.relative_to(ROOT).as_posix()
    for language, body in FENCE.findall(page.read_text(encoding="utf-8")):
        if language not in SHELLS:
            continue
        for line in body.replace("\\\n", " ").splitlines():
            lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|")
            lexer.whitespace_split = True
            lexer.commenters = "#"
            words: list[str] = []
            for token in [*lexer, ";"]:
                if token and set(token) <= set(";&|"):
                    if words := _unwrapped(words):
                        yield Command(name, words)
                    words = []
                else:
                    words.append(token)


def _unwrapped(words: list[str]) -> list[str]:
    while words and re.fullmatch(r"[A-Z_][A-Z0-9_]*=.*", words[0]):
        words = words[1:]
    while words and words[0] in WRAPPERS:
        words = words[1 + WRAPPERS[words[0]] :]
    return words


def problems(command: Command) -> list[str]:
    """What is wrong with one command; empty when it resolves."""
    program, args = command.words[0], command.words[1:]
    if program.endswith("python") or program in {"python3", ".venv/bin/python"}:
        return _python(command, args)
    if program in {"bash", "sh"}:
        return [] if args and (ROOT / args[0]).is_file() else [f"{command}: no such script"]
    if "/" in program:
        return [] if (ROOT / program).is_file() else [f"{command}: no such file"]
    return [] if program in EXTERNAL else [f"{command}: unknown program {program!r}"]


def _python(command: Command, args: list[str]) -> list[str]:
    if args[:1] != ["-m"]:
        script = args[0] if args else ""
        return [] if (ROOT / script).is_file() else [f"{command}: no such script {script!r}"]
    module, flags = args[1], args[2:]
    if module in {"pytest", "docsgen.readme"}:
        return []
    if module not in COMMANDS:
        return [f"{command}: {module} is not one of the commands (docsgen.sources.COMMANDS)"]
    known = set(option_strings(parser_of(module)))
    unknown = [
        flag
        for flag in (word.partition("=")[0] for word in flags if word.startswith("-"))
        if flag not in known and _other_spelling(flag) not in known and flag != "-h"
    ]
    return [f"{command}: {module} has no {flag}" for flag in unknown]


def _other_spelling(flag: str) -> str:
    body = flag[2:]
    return "--" + (body.replace("-", "_") if "-" in body else body.replace("_", "-"))


def broken_links(page: Path, generated: set[str] = frozenset()) -> list[str]:
    """Relative links of ``page`` whose file (or heading) does not exist. A page of the site may
    also link to a generated page: ``generated`` holds their paths under docs/."""
    out = []
    text = FENCE.sub("", page.read_text(encoding="utf-8"))
    for target in LINK.findall(text):
        if re.match(r"[a-z]+:", target) or target.startswith("#"):
            continue
        path, _, anchor = target.partition("#")
        found = (page.parent / path).resolve()
        if found.is_relative_to(DOCS) and found.relative_to(DOCS).as_posix() in generated:
            continue
        if not found.exists():
            out.append(f"{page.relative_to(ROOT)}: {target}")
        elif anchor and found.suffix == ".md" and anchor not in _anchors(found):
            out.append(f"{page.relative_to(ROOT)}: {target} (no such heading)")
    return out


def _anchors(page: Path) -> set[str]:
    headings = re.findall(r"^#+ (.+)$", FENCE.sub("", page.read_text(encoding="utf-8")), re.M)
    return {re.sub(r"[^\w\- ]", "", h.lower()).strip().replace(" ", "-") for h in headings}


SPAN = re.compile(r"`([^`\n]+)`")
DOTTED = re.compile(r"^(?:common|objectives|search|storage|docsgen)(?:\.\w+)+$")
REPO_PATH = re.compile(
    r"^(?:common|objectives|search|storage|bench|scripts|deploy|tests|docs|docsgen)/"
)
# flags of other programs that the pages mention in passing
OTHER_FLAGS = {
    "--scale", "--gpus", "--strict", "--artifact-dir", "--study-name", "--help", "--check",
    "--ignore-existing", "--no-deps",
}  # fmt: skip


def mentions(page: Path) -> Iterator[str]:
    """The flags, module paths and repository paths the page's prose names in code spans."""
    text = FENCE.sub("", page.read_text(encoding="utf-8"))
    for span in SPAN.findall(text):
        for word in re.split(r"[\s,()=\[\]|]+", span):
            word = word.rstrip(".:;")
            if _named(word):
                yield word


def _named(word: str) -> bool:
    """A flag, a dotted module path, a repository path (no placeholder) or a test file."""
    path = REPO_PATH.match(word) and "<" not in word and "NAME" not in word
    test = re.fullmatch(r"test_\w+\.py", word)
    return bool(re.fullmatch(r"--[a-z][\w-]*", word) or DOTTED.match(word) or path or test)


def bench_flags() -> set[str]:
    """The flags the benchmark scripts declare (``bench/*.py``: scripts, not commands whose
    parser docsgen can build), read from their ``add_argument`` calls."""
    declared = re.compile(r"add_argument\(\s*\"(--[a-z][\w-]*)\"")
    return {
        flag
        for script in (ROOT / "bench").glob("*.py")
        for flag in declared.findall(script.read_text(encoding="utf-8"))
    }


def mention_problems(page: Path) -> list[str]:
    """Mentions that name nothing: a flag no command takes, a module or attribute that does
    not exist, a repository path that is not there."""
    flags = {flag for command in COMMANDS for flag in option_strings(parser_of(command))}
    flags |= {_other_spelling(flag) for flag in flags} | OTHER_FLAGS | bench_flags()
    name = page.relative_to(ROOT).as_posix()
    wrong = []
    for word in mentions(page):
        if word.startswith("--"):
            ok = word in flags
        elif DOTTED.match(word):
            ok = _resolves(word)
        elif word.startswith("test_"):
            ok = any((ROOT / "tests").rglob(word))
        else:
            ok = bool(list(ROOT.glob(word.rstrip("/")))) if "*" in word else (ROOT / word).exists()
        if not ok:
            wrong.append(f"{name}: {word}")
    return wrong


def _resolves(dotted: str) -> bool:
    import importlib

    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            value = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attr in parts[cut:]:
            if not hasattr(value, attr):
                return False
            value = getattr(value, attr)
        return True
    return False
