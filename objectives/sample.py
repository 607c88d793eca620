"""``python -m objectives.sample --out DIR``: the built-in sample data
(:mod:`objectives.data._sample_data`) written as KLUE JSON and competition CSV, with a summary."""

from __future__ import annotations

import argparse
import statistics
from collections import Counter
from collections.abc import Mapping
from pathlib import Path

from common._cli import UserError, run_main
from objectives.data._dataset import Example
from objectives.data._labels import KLUE_RELATIONS, NO_RELATION
from objectives.data._sample_data import DEFAULT_SEED, DEFAULT_SIZES, SAMPLE_FILES, SPLITS, generate
from objectives.data._writing import write_sample


def summarize(splits: Mapping[str, list[Example]], top: int = 5) -> str:
    """Counts per split and the train label distribution's head and tail, for people."""
    lines = []
    for split, examples in splits.items():
        n = len(examples)
        labels = Counter(ex.label for ex in examples)
        lengths = [len(ex.sentence) for ex in examples] or [0]
        lines.append(
            f"{split:5s} {n:6d} examples  no_relation {labels[NO_RELATION] / max(n, 1):5.1%}  "
            f"relations {len(set(labels) - {NO_RELATION}):2d}/{len(KLUE_RELATIONS) - 1}  "
            f"chars median {statistics.median(lengths):.0f} max {max(lengths)}  "
            f">200 chars {sum(length > 200 for length in lengths) / max(n, 1):5.1%}"
        )
    train = splits.get("train", [])
    ranked = Counter(ex.label for ex in train).most_common()
    if ranked:

        def fmt(pairs: list[tuple[str | None, int]]) -> str:
            return ", ".join(
                f"{label} {count} ({count / len(train):.1%})" for label, count in pairs
            )

        lines.append(f"train head: {fmt(ranked[:top])}")
        lines.append(f"train tail: {fmt(ranked[-top:])}")
    return "\n".join(lines)


def _size(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value


def main(argv: list[str] | None = None) -> int:
    """``python -m objectives.sample --out DIR [--seed 13] [--train N --dev N --test N]``."""
    parser = argparse.ArgumentParser(
        prog="python -m objectives.sample",
        description="Write the built-in KLUE-RE-like sample data (KLUE JSON and competition CSV).",
    )
    parser.add_argument("--out", type=Path, required=True, help="directory to write into")
    parser.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, help="generator seed (default 13)"
    )
    for split in SPLITS:
        parser.add_argument(
            f"--{split}",
            type=_size,
            default=DEFAULT_SIZES[split],
            metavar="N",
            help=f"{split} examples (default {DEFAULT_SIZES[split]})",
        )
    args = parser.parse_args(argv)
    if args.out.exists() and not args.out.is_dir():
        raise UserError(f"--out {args.out}: exists and is not a directory")
    splits = generate(args.seed, {split: getattr(args, split) for split in SPLITS})
    try:
        write_sample(args.out, splits)
    except OSError as exc:
        raise UserError(f"--out {args.out}: cannot write ({exc.strerror})") from None
    print(f"wrote {', '.join(SAMPLE_FILES)} to {args.out} (seed {args.seed})")
    print(summarize(splits))
    return 0


if __name__ == "__main__":
    run_main(main)
