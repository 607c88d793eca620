"""Look at a KLUE-RE training file before choosing max_len.

    python -m objectives.describe --train FILE [--model NAME] [--markers SCHEME] [--labels FILE]
        [--no-relation NAME] [--unlabeled] [--json]

Prints the row count, the label distribution, the entity-type pairs, the token lengths of the
marked sentences with the chosen tokenizer (default: the tiny model's, trained on this file), and
for max_len 64, 128 and 256 the share of examples whose subject or object start marker truncation
would cut off (the token a classifier pools from).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from common._cli import ArgumentParser, UserError, run_main
from objectives.data._dataset import Dataset, Example, read_dataset
from objectives.data._labels import NO_RELATION, LabelSet, check_no_relation, read_label_file
from objectives.encoding._markers import SCHEMES, char_to_token, mark_example, special_tokens
from objectives.models._loading import load_tokenizer, max_positions
from objectives.models._resolve import TINY, resolve_model

PERCENTILES: tuple[int, ...] = (50, 75, 90, 95, 99)
MAX_LENS: tuple[int, ...] = (64, 128, 256)
DEFAULT_SCHEME = "typed_punct"
_CUT_KEYS = ("truncated", "subject_cut", "object_cut", "either_cut")


def summarize(
    dataset: Dataset,
    tokenizer: Any,
    scheme: str,
    max_lens: Sequence[int] = MAX_LENS,
    labels: LabelSet | None = None,
) -> dict[str, Any]:
    """Everything the report shows, as plain JSON-ready values.

    ``tokenizer`` is a fast tokenizer that already knows the scheme's marker tokens. With
    ``labels``, labels the data never uses are listed with a count of 0.
    """
    examples = dataset.examples
    lengths, subject_pos, object_pos = marked_lengths(examples, tokenizer, scheme)
    n_special = tokenizer.num_special_tokens_to_add(pair=False)
    left = getattr(tokenizer, "truncation_side", "right") == "left"
    return {
        "file": dataset.path,
        "rows": len(examples),
        "repaired_offsets": dataset.repaired,
        "straightened_quotes": dataset.straightened,
        "scheme": scheme,
        "labels": label_distribution((ex.label for ex in examples), labels),
        "entity_pairs": type_pairs(examples),
        "token_lengths": length_percentiles(lengths + n_special),
        "truncation": [
            truncation_row(lengths, subject_pos, object_pos, max_len, n_special, left)
            for max_len in max_lens
        ],
    }


def marked_lengths(
    examples: Sequence[Example], tokenizer: Any, scheme: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per example: tokens of the marked sentence (special tokens excluded), and the token
    positions of the subject and object start markers in it.

    One batched call to the fast tokenizer, without truncation.
    """
    marked = [mark_example(ex, scheme) for ex in examples]
    encoded = tokenizer(
        [m.text for m in marked],
        add_special_tokens=False,
        return_offsets_mapping=True,
        return_attention_mask=False,
        return_token_type_ids=False,
        verbose=False,
    )
    lengths = np.fromiter((len(ids) for ids in encoded["input_ids"]), np.int64, len(marked))
    subject_pos = np.empty(len(marked), np.int64)
    object_pos = np.empty(len(marked), np.int64)
    for i, (m, offsets) in enumerate(zip(marked, encoded["offset_mapping"], strict=True)):
        # A start with no token after it can only go with the end of the text.
        subject = char_to_token(offsets, m.subject_start)
        obj = char_to_token(offsets, m.object_start)
        subject_pos[i] = lengths[i] if subject is None else subject
        object_pos[i] = lengths[i] if obj is None else obj
    return lengths, subject_pos, object_pos


def truncation_row(
    lengths: np.ndarray,
    subject_pos: np.ndarray,
    object_pos: np.ndarray,
    max_len: int,
    n_special: int,
    left: bool = False,
) -> dict[str, Any]:
    """Shares of examples truncated at ``max_len`` and of those losing a start marker.

    ``lengths`` and the positions count content tokens only; ``max_len`` includes the
    ``n_special`` tokens the tokenizer adds. ``left`` truncation keeps the last tokens instead.
    """
    keep = max(max_len - n_special, 0)
    if left:
        first_kept = np.maximum(lengths - keep, 0)
        subject_cut = subject_pos < first_kept
        object_cut = object_pos < first_kept
    else:
        subject_cut = subject_pos >= keep
        object_cut = object_pos >= keep
    return {
        "max_len": max_len,
        "truncated": _share(lengths > keep),
        "subject_cut": _share(subject_cut),
        "object_cut": _share(object_cut),
        "either_cut": _share(subject_cut | object_cut),
    }


def length_percentiles(lengths: np.ndarray) -> dict[str, float]:
    """Percentiles (numpy's default, linear interpolation), mean and max of token lengths."""
    if len(lengths) == 0:
        return {}
    stats = {f"p{q}": float(np.percentile(lengths, q)) for q in PERCENTILES}
    stats["mean"] = float(np.mean(lengths))
    stats["max"] = float(np.max(lengths))
    return stats


def label_distribution(
    labels: Iterable[str | None], label_set: LabelSet | None = None
) -> list[dict[str, Any]]:
    """Count and share per label, most frequent first; unlabeled rows are left out."""
    counts = Counter(label for label in labels if label is not None)
    if label_set is not None:
        for name in label_set.names:
            counts.setdefault(name, 0)
    total = sum(counts.values())
    return [
        {"label": name, "count": count, "share": count / total if total else 0.0}
        for name, count in _most_common(counts)
    ]


def type_pairs(examples: Iterable[Example]) -> list[dict[str, Any]]:
    """Count and share per (subject type, object type), most frequent first."""
    counts = Counter((ex.subject.type, ex.object.type) for ex in examples)
    total = sum(counts.values())
    return [
        {"subject": subject, "object": obj, "count": count, "share": count / total}
        for (subject, obj), count in _most_common(counts)
    ]


def format_report(summary: dict[str, Any]) -> str:
    """The summary as aligned plain-text tables."""
    repaired = summary["repaired_offsets"]
    limit = summary.get("max_positions")
    lines = [
        f"file     {summary['file']}",
        f"rows     {summary['rows']}"
        + (f" ({repaired} entity offsets repaired)" if repaired else "")
        + _straightened(summary.get("straightened_quotes", 0)),
        f"model    {summary.get('model', '?')}" + (f" (at most {limit} tokens)" if limit else ""),
        f"markers  {summary['scheme']}",
    ]
    if summary["labels"]:
        none = summary.get("no_relation")
        rows = [
            [_mark(d["label"], none), d["count"], _percent(d["share"])] for d in summary["labels"]
        ]
        title = f"labels (no-relation label: {none}; micro-F1 leaves it out)" if none else "labels"
        lines += ["", title, *format_table(["label", "count", "share"], rows)]
    rows = [
        [f"{d['subject']} -> {d['object']}", d["count"], _percent(d["share"])]
        for d in summary["entity_pairs"]
    ]
    lines += [
        "",
        "entity types (subject -> object)",
        *format_table(["pair", "count", "share"], rows),
    ]
    stats = summary["token_lengths"]
    values = [f"{value:.1f}" if key == "mean" else f"{value:g}" for key, value in stats.items()]
    lines += ["", "tokens per marked example, special tokens included"]
    lines += format_table(list(stats), [values])
    header = ["max_len", "truncated", "subject cut", "object cut", "either cut"]
    rows = [[t["max_len"], *(_percent(t[key]) for key in _CUT_KEYS)] for t in summary["truncation"]]
    lines += ["", "truncation: share of examples", *format_table(header, rows)]
    return "\n".join(lines)


def format_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    """Rows under a header, columns padded; text left-aligned, numbers right-aligned."""
    cells = [[str(c) for c in header]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    numeric = [
        all(_looks_numeric(row[i]) for row in cells[1:]) and len(cells) > 1
        for i in range(len(header))
    ]
    out = []
    for row in cells:
        padded = [
            cell.rjust(width) if right else cell.ljust(width)
            for cell, width, right in zip(row, widths, numeric, strict=True)
        ]
        out.append("  " + "  ".join(padded).rstrip())
    return out


def main(argv: list[str] | None = None) -> int:
    """Read the file, build the tokenizer, print the report."""
    args = _parser().parse_args(argv)
    label_set = read_label_file(args.labels, args.no_relation) if args.labels else None
    dataset = read_dataset(args.train, label_set, with_labels=not args.unlabeled)
    if not args.unlabeled:
        check_no_relation((ex.label for ex in dataset.examples), args.no_relation, str(args.train))
    sentences = [ex.sentence for ex in dataset.examples]
    path = resolve_model(args.model, lambda: sentences)
    tokenizer = load_tokenizer(path, special_tokens(args.markers))
    try:
        summary = summarize(dataset, tokenizer, args.markers, MAX_LENS, label_set)
    except ValueError as exc:
        raise UserError(f"{args.train}: cannot mark an example: {exc}") from None
    summary["model"] = args.model
    if not args.unlabeled:
        summary["no_relation"] = args.no_relation
    summary["max_positions"] = max_positions(path)
    print(
        json.dumps(summary, ensure_ascii=False, indent=2) if args.json else format_report(summary)
    )
    return 0


def _parser() -> ArgumentParser:
    parser = ArgumentParser(
        prog="python -m objectives.describe",
        description="Label, entity-type and token-length statistics of a KLUE-RE file.",
    )
    parser.add_argument("--train", type=Path, required=True, help="KLUE JSON, JSONL or CSV")
    parser.add_argument(
        "--model", default=TINY, help="'tiny' (default: trained on --train), a directory or hub id"
    )
    parser.add_argument(
        "--markers",
        choices=SCHEMES,
        default=DEFAULT_SCHEME,
        help=f"entity marker scheme (default: {DEFAULT_SCHEME})",
    )
    parser.add_argument("--labels", type=Path, help="relation list file; checks every label")
    parser.add_argument(
        "--no-relation",
        default=NO_RELATION,
        help=f"the label meaning no relation; it must occur in the file (default: {NO_RELATION})",
    )
    parser.add_argument("--unlabeled", action="store_true", help="ignore labels (a test file)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of tables")
    return parser


def _most_common(counts: Counter) -> list[tuple[Any, int]]:
    # Ties broken by name, so the output is stable across runs and Python versions.
    return sorted(counts.items(), key=lambda item: (-item[1], str(item[0])))


def _straightened(count: int) -> str:
    return f" ({count} entity strings with curly quotes read as straight)" if count else ""


def _mark(label: str, no_relation: str | None) -> str:
    return label + ("  (no relation)" if label == no_relation else "")


def _share(mask: np.ndarray) -> float:
    return float(np.mean(mask)) if len(mask) else 0.0


def _percent(share: float) -> str:
    return f"{100 * share:.1f}%"


def _looks_numeric(text: str) -> bool:
    return text.rstrip("%").replace(".", "", 1).lstrip("-").isdigit()


if __name__ == "__main__":
    run_main(main)
