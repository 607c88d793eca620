"""The site builds offline with warnings as errors, and its reference is the code's: every flag
of every command, every name of every package face, every result file has its page."""

from __future__ import annotations

import html
import re

from docsgen import api_reference
from docsgen.commands import modules_with_main, option_strings, parser_of
from docsgen.results import result_files
from docsgen.sources import COMMANDS, NOT_COMMANDS, ROOT
from tests.docsgen.conftest import page_html


def test_the_command_list_holds_every_module_that_runs_as_a_command():
    assert sorted(modules_with_main()) == sorted(COMMANDS + NOT_COMMANDS)
    for command in COMMANDS:  # what --help prints
        assert f"python -m {command}" in parser_of(command).format_help()


def test_every_flag_of_every_command_is_in_the_built_reference(site):
    missing = []
    for command in COMMANDS:
        text = html.unescape(page_html(site, f"reference/cli/{command}.md"))
        for flag in option_strings(parser_of(command)):
            if f"<code>{flag}</code>" not in text:
                missing.append(f"{command} {flag}")
    assert not missing, "flags missing from the built reference: " + ", ".join(missing)
    index = page_html(site, "reference/cli/index.md")
    assert all(f"python -m {command}" in index for command in COMMANDS)


def test_every_name_of_every_package_face_is_in_the_api_reference(site):
    faces = api_reference.faces()
    assert faces, "no package declares __all__"
    for package, names in faces.items():
        text = page_html(site, f"reference/api/{package}.md")
        missing = [name for name in names if f"<code>{name}</code>" not in text]
        assert not missing, f"{package}: {missing}"


def test_every_result_file_has_a_page_naming_its_source(site):
    for path in result_files():
        text = page_html(site, f"results/{path.stem}.md")
        assert f"bench/results/{path.name}" in text
        assert "<table>" in text, path.name


def test_the_attributes_page_lists_the_records_with_their_stored_names(site):
    text = page_html(site, "reference/attributes.md")
    for name in ("RUN_ATTR", "EVALS_ATTR", "PRUNED_AT", "METADATA"):
        assert f"<code>{name}</code>" in text


def test_no_page_carries_history(site):
    """A figure names its command, machine and load, never a clock time or a commit hash."""
    clock = re.compile(r"\b\d{1,2}:\d{2}(:\d{2})?\s*(UTC|am|pm)?\b(?![./-])")
    commit = re.compile(r"\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{7,40}\b")
    stories = re.compile(
        r"earlier session|before the change|an earlier run|code of its time|as it was before|"
        r"no longer uses|used to be|was changed|the default before|-before\b",
        re.I,
    )
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    pages = [("README.md", readme)]
    for page in site.rglob("index.html"):
        text = re.sub(r"<(script|style).*?</\1>", " ", page.read_text(encoding="utf-8"), flags=re.S)
        pages.append((str(page.relative_to(site)), re.sub(r"<[^>]+>", " ", text)))
    for name, text in pages:  # (the theme's asset names carry content hashes: tags dropped)
        for pattern in (clock, commit, stories):
            found = pattern.search(text)
            assert not found, f"{name}: {found.group(0)!r}"
