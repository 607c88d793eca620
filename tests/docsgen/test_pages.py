"""The hand-written pages and the README: every relative link resolves, every command names a
real module, script and flag, the README stays short and its figures are the JSON's."""

from __future__ import annotations

import pytest

from docsgen import checks, readme
from docsgen.sources import ROOT
from tests.docsgen.conftest import generated_in


def test_every_relative_link_resolves(site):
    generated = generated_in(site)
    broken = [link for page in checks.pages() for link in checks.broken_links(page, generated)]
    assert not broken, "\n".join(broken)


def test_every_command_in_the_pages_names_a_real_module_script_and_flags():
    found = [command for page in checks.pages() for command in checks.commands(page)]
    assert len(found) > 40, "the command blocks were not read"
    wrong = [problem for command in found for problem in checks.problems(command)]
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("python -m search.run --trials 4 --no-such-flag 1", "search.run has no --no-such-flag"),
        ("python -m search.nothing --help", "is not one of the commands"),
        ("nice -n 5 scripts/nothing.sh", "no such file"),
        ("FOO=1 frobnicate --now", "unknown program 'frobnicate'"),
    ],
)
def test_the_command_check_catches_what_a_rename_breaks(tmp_path, monkeypatch, line, problem):
    page = tmp_path / "page.md"
    page.write_text(f"```bash\n{line}\n```\n", encoding="utf-8")
    monkeypatch.setattr(checks, "ROOT", tmp_path)
    wrong = [p for command in checks.commands(page) for p in checks.problems(command)]
    assert any(problem in p for p in wrong), wrong


def test_the_link_check_catches_a_missing_file_and_heading(tmp_path, monkeypatch):
    (tmp_path / "other.md").write_text("# A heading\n", encoding="utf-8")
    page = tmp_path / "page.md"
    page.write_text("[a](missing.md) [b](other.md#a-heading) [c](other.md#nothing)\n")
    monkeypatch.setattr(checks, "ROOT", tmp_path)
    broken = checks.broken_links(page)
    assert broken == ["page.md: missing.md", "page.md: other.md#nothing (no such heading)"]


def test_the_readme_is_short_and_its_headline_figures_are_the_json_s():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 200
    assert readme.rendered(text) == text, "run python -m docsgen.readme"
    for command in ("scripts/demo.sh", "scripts/test.sh", "bash .ci/run"):
        assert command in text


def test_every_flag_module_and_path_the_prose_names_exists():
    """What a rename elsewhere breaks in the prose: a flag, a module path, a file."""
    wrong = [problem for page in checks.pages() for problem in checks.mention_problems(page)]
    assert not wrong, "\n".join(wrong)


def test_the_mention_check_catches_renamed_names(tmp_path, monkeypatch):
    page = tmp_path / "page.md"
    page.write_text(
        "Use `--trials`, `--no-such-flag`, `search.run`, `search.nothing`, "
        "`search._attrs.study_attrs`, `search._attrs.nothing`, `scripts/demo.sh`, "
        "`scripts/nothing.sh` and `test_nothing_here.py`.\n",
        encoding="utf-8",
    )
    monkeypatch.setattr(checks, "ROOT", tmp_path)
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "demo.sh").write_text("")
    (tmp_path / "tests").mkdir()
    wrong = [line.partition(": ")[2] for line in checks.mention_problems(page)]
    assert wrong == [
        "--no-such-flag",
        "search.nothing",
        "search._attrs.nothing",
        "scripts/nothing.sh",
        "test_nothing_here.py",
    ]


def test_the_commands_the_results_pages_name_resolve_too():
    """docsgen.results names the command behind each JSON that does not record its own."""
    import shlex

    from docsgen.results import COMMANDS, RESULTS

    assert all((RESULTS / f"{stem}.json").exists() for stem in COMMANDS), "a result was renamed"
    wrong = [
        problem
        for command in COMMANDS.values()
        for problem in checks.problems(checks.Command("docsgen/results.py", shlex.split(command)))
    ]
    assert not wrong, "\n".join(wrong)
