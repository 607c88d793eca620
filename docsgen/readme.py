"""The README's headline figures, written from ``bench/results/*.json`` between two markers:

python -m docsgen.readme           # rewrite the table in README.md
python -m docsgen.readme --check   # exit 1 if it differs from what the JSON says
"""

from __future__ import annotations

import argparse
import sys

from docsgen.results import headline_table, result_files
from docsgen.sources import ROOT

README = ROOT / "README.md"
BEGIN = (
    "<!-- headline figures: written by `python -m docsgen.readme` from bench/results; "
    "do not edit -->"
)
END = "<!-- end of headline figures -->"


def rendered(text: str) -> str:
    """``text`` with the table between the markers written from the results."""
    head, begin, rest = text.partition(BEGIN)
    _, end, tail = rest.partition(END)
    if not begin or not end:
        raise ValueError(f"{README.name}: the headline markers are missing")
    table = headline_table(result_files(), link=lambda stem: f"bench/results/{stem}.json")
    return f"{head}{BEGIN}\n{table}{END}{tail}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m docsgen.readme", description=__doc__)
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    args = parser.parse_args(argv)
    text = README.read_text(encoding="utf-8")
    new = rendered(text)
    if args.check:
        if new != text:
            print(
                "README.md's headline figures differ from bench/results; run "
                "python -m docsgen.readme",
                file=sys.stderr,
            )
            return 1
        return 0
    README.write_text(new, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
