"""``python -m objectives.tapt``: task-adaptive pretraining (TAPT, Gururangan et al. 2020).

Masked-LM training of a model on the task's own sentences (train, dev and test; never their
labels) before fine-tuning. The adapted encoder and its tokenizer are saved with
``save_pretrained``, so ``--model DIR`` loads them like any checkpoint, and ``--model NAME+tapt``
in a search builds them on first use under the cache root (:func:`ensure_tapt_model`).

A result is keyed by the model, the corpus (its distinct sentences) and the TAPT
hyperparameters; the key is stored in ``tapt.json`` beside the weights, and a second call with
the same inputs returns the saved directory at once. Builds go to a temporary directory renamed
into place, so nobody sees half a model; workers of one search that want the same adapted model
wait on a lock file instead of training it twice.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import hashlib
import json
import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common import paths
from common.cli import ArgumentParser, UserError, run_main
from objectives.data.dataset import read_dataset
from objectives.models.mlm import train_mlm
from objectives.models.names import TAPT_SUFFIX, TINY, resolve_plain, tapt_base

# Bump when the recipe changes, so old adapted models are not reused.
TAPT_VERSION = "tapt-v1"
RECORD = "tapt.json"


@dataclass(frozen=True)
class TaptParams:
    """TAPT's own hyperparameters (not the fine-tuning's); the defaults are what ``+tapt`` uses."""

    epochs: float = 3.0
    learning_rate: float = 1e-4
    batch_size: int = 32
    mlm_probability: float = 0.15
    max_len: int = 128
    seed: int = 42

    def __post_init__(self) -> None:
        checks = [
            ("epochs", _positive(self.epochs), "must be > 0"),
            ("learning_rate", _positive(self.learning_rate), "must be > 0"),
            ("batch_size", _count(self.batch_size, 1), "must be an integer >= 1"),
            ("mlm_probability", 0 < self.mlm_probability < 1, "must be in (0, 1)"),
            ("max_len", _count(self.max_len, 8), "must be an integer >= 8"),
            ("seed", _count(self.seed, 0), "must be an integer >= 0"),
        ]
        for name, ok, rule in checks:
            if not ok:
                raise UserError(f"--{name}: {rule}, got {getattr(self, name)!r}")


def _positive(value: object) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value) and value > 0


def _count(value: object, low: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= low


def corpus_sentences(paths: Sequence[str | Path]) -> list[str]:
    """The sentences of data files (KLUE JSON, JSONL, CSV), their labels ignored."""
    return [ex.sentence for path in paths for ex in read_dataset(path, with_labels=False).examples]


def distinct(sentences: Sequence[str]) -> list[str]:
    """Each sentence once, in a fixed order: KLUE-RE repeats a sentence for each entity pair."""
    return sorted({s for s in sentences if s.strip()})


def tapt_key(model_id: str, corpus: Sequence[str], params: TaptParams) -> str:
    digest = hashlib.sha256()
    digest.update(repr((TAPT_VERSION, model_id, sorted(params_dict(params).items()))).encode())
    for sentence in corpus:
        digest.update(sentence.encode("utf-8"))
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def params_dict(params: TaptParams) -> dict[str, Any]:
    return dataclasses.asdict(params)


def ensure_tapt_model(
    base: str,
    sentences: Sequence[str],
    cache_root: Path | None = None,
    params: TaptParams | None = None,
) -> Path:
    """``base`` adapted to ``sentences``, under ``<cache root>/models/tapt-...``: what
    ``--model base+tapt`` loads. Built on first use with ``params`` (default: TAPT's defaults)."""
    params = params or TaptParams()
    models_dir = (cache_root or paths.cache_root()) / "models"
    model_path, model_id, corpus = _prepare(base, sentences, cache_root)
    key = tapt_key(model_id, corpus, params)
    target = models_dir / f"tapt-{_slug(base)}-{key}"
    if _record_key(target) == key:
        return target
    with _locked(models_dir / f".{target.name}.lock"):
        adapt(model_path, model_id, corpus, params, target, key)
    return target


def adapt(
    model_path: str,
    model_id: str,
    corpus: Sequence[str],
    params: TaptParams,
    out: Path,
    key: str,
    progress: bool = False,
) -> dict[str, Any]:
    """Train and save into ``out``, or return the record already there for ``key``."""
    found = _record_key(out)
    if found == key:
        return {**_read_record(out), "cached": True}
    if out.exists() and not (out.is_dir() and not any(out.iterdir())):
        what = "a TAPT model of other inputs" if found else "other files"
        what = what if out.is_dir() else "a file of that name"
        raise UserError(f"--out {out}: already holds {what}; choose a new directory")
    with paths.atomic_directory(
        out, lambda path: _record_key(path) == key, flag=f"--out {out}"
    ) as scratch:
        record = train_mlm(model_path, corpus, params, scratch, progress)
        record = {"key": key, "model": model_id, "version": TAPT_VERSION, **record}
        (scratch / RECORD).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return {**record, "cached": False}


def _prepare(base: str, sentences: Sequence[str], cache_root: Path | None):
    """The base model's path, its identity for the cache key, and the distinct corpus."""
    if tapt_base(base) is not None:
        raise UserError(
            f"--model {base}: is already an adapted model's name; give the model to adapt "
            f"({base[: -len(TAPT_SUFFIX)]})"
        )
    corpus = distinct(sentences)
    if not corpus:
        raise UserError(f"--model {base}{TAPT_SUFFIX}: no sentences to adapt it to")
    # the tiny model is built on the same sentences as a search's plain ``tiny``
    model_path = resolve_plain(base, corpus=lambda: sentences, cache_root=cache_root)
    if base == TINY:
        model_id = Path(model_path).name  # tiny-<fingerprint of its recipe and corpus>
    elif Path(model_path).is_dir():
        model_id = str(Path(model_path).resolve())
    else:
        model_id = base
    return model_path, model_id, corpus


def _record_key(out: Path) -> str | None:
    try:
        return _read_record(out).get("key")
    except (OSError, ValueError, AttributeError):
        return None


def _read_record(out: Path) -> dict[str, Any]:
    return json.loads((out / RECORD).read_text(encoding="utf-8"))


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name.rstrip("/").split("/")[-1]) or "model"


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path``: one process builds, the others wait, then reuse it."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(path, "a")  # noqa: SIM115
    except OSError as exc:
        raise UserError(f"{path.parent}: cannot write the model cache ({exc.strerror})") from None
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


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
    from common.cli import quiet_libraries

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
    sentences = corpus_sentences(args.corpus)
    model_path, model_id, corpus = _prepare(args.model, sentences, args.cache_dir)
    key = tapt_key(model_id, corpus, params)
    record = adapt(model_path, model_id, corpus, params, args.out, key, progress=True)
    print(json.dumps({"out": str(args.out), **record}, indent=2))
    return 0


if __name__ == "__main__":
    run_main(main)
