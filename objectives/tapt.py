"""``python -m objectives.tapt``: task-adaptive pretraining by hand, into a directory of one's
choosing (a search's ``--model NAME+tapt`` builds the same under the cache root).

The library is :mod:`objectives.models._adapted`; ``--model`` is resolved like a search's.
"""

from __future__ import annotations

import json
from pathlib import Path

from common._cli import ArgumentParser, UserError, run_main
from objectives.models._adapted import TaptParams, adapt, corpus_sentences, tapt_corpus, tapt_key
from objectives.models._resolve import parse_model, resolve_base


def build_parser() -> ArgumentParser:
    defaults = TaptParams()
    p = ArgumentParser(
        prog="python -m objectives.tapt",
        description="Task-adaptive pretraining: masked-LM training on the task's own sentences.",
    )
    p.add_argument("--model", required=True, help="'tiny', a local directory or a hub id")
    p.add_argument(
        "--corpus", nargs="+", required=True, type=Path, help="data files (labels are not read)"
    )
    p.add_argument("--out", required=True, type=Path, help="where the adapted model goes")
    p.add_argument("--epochs", type=float, default=defaults.epochs)
    p.add_argument("--learning_rate", type=float, default=defaults.learning_rate)
    p.add_argument("--batch_size", type=int, default=defaults.batch_size)
    p.add_argument("--mlm_probability", type=float, default=defaults.mlm_probability)
    p.add_argument("--max_len", type=int, default=defaults.max_len)
    p.add_argument("--seed", type=int, default=defaults.seed)
    p.add_argument("--cache_dir", type=Path, help="for the tiny model (default: the cache root)")
    return p


def main(argv: list[str] | None = None) -> int:
    from common._cli import quiet_libraries

    args = build_parser().parse_args(argv)
    params = TaptParams(
        epochs=args.epochs,
        learning_rate=args.learning_rate,
        batch_size=args.batch_size,
        mlm_probability=args.mlm_probability,
        max_len=args.max_len,
        seed=args.seed,
    )
    quiet_libraries()
    model = parse_model(args.model)
    if model.tapt:
        raise UserError(
            f"--model {args.model}: is already an adapted model's name; give the model to adapt "
            f"({model.base})"
        )
    sentences = corpus_sentences(args.corpus)
    corpus = tapt_corpus(model.base, sentences)
    # the tiny model is built on the same sentences as a search's plain ``tiny``
    model_path, model_id = resolve_base(model, lambda: sentences, args.cache_dir)
    key = tapt_key(model_id, corpus, params)
    manifest = adapt(model_path, model_id, corpus, params, args.out, key, progress=True)
    print(json.dumps({"out": str(args.out), **manifest}, indent=2))
    return 0


if __name__ == "__main__":
    run_main(main)
