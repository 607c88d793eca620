"""Adapted models: task-adaptive pretraining (TAPT, Gururangan et al. 2020), built and cached.

Masked-LM training of a model on the task's own sentences (train, dev and test; never their
labels) before fine-tuning. The adapted encoder and its tokenizer are saved with
``save_pretrained``, so ``--model DIR`` loads them like any checkpoint, and ``--model NAME+tapt``
in a search builds them on first use under the cache root (:func:`ensure_tapt_model`, called by
:func:`objectives.models.resolve_model`); ``python -m objectives.tapt`` builds one by hand.

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

from common import _paths as paths
from common._cli import UserError
from objectives.data._dataset import read_dataset
from objectives.models._mlm import train_mlm

# Bump when the recipe changes, so old adapted models are not reused.
TAPT_VERSION = "tapt-v1"
MANIFEST = "tapt.json"


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
    model_path: str,
    model_id: str,
    sentences: Sequence[str],
    cache_root: Path | None = None,
    params: TaptParams | None = None,
) -> Path:
    """The model ``base`` (loaded from ``model_path``, known as ``model_id``) adapted to
    ``sentences``, under ``<cache root>/models/tapt-...``: what ``--model base+tapt`` loads.
    Built on first use with ``params`` (default: TAPT's defaults)."""
    params = params or TaptParams()
    models_dir = (cache_root or paths.cache_root()) / "models"
    corpus = tapt_corpus(base, sentences)
    key = tapt_key(model_id, corpus, params)
    target = models_dir / f"tapt-{_slug(base)}-{key}"
    if _manifest_key(target) == key:
        return target
    with _locked(models_dir / f".{target.name}.lock"):
        adapt(model_path, model_id, corpus, params, target, key)
    return target


def tapt_corpus(base: str, sentences: Sequence[str]) -> list[str]:
    """The distinct sentences to adapt ``base`` to; a UserError when there are none."""
    corpus = distinct(sentences)
    if not corpus:
        raise UserError(f"--model {base}+tapt: no sentences to adapt it to")
    return corpus


def adapt(
    model_path: str,
    model_id: str,
    corpus: Sequence[str],
    params: TaptParams,
    out: Path,
    key: str,
    progress: bool = False,
) -> dict[str, Any]:
    """Train and save into ``out``, or return the manifest already there for ``key``."""
    found = _manifest_key(out)
    if found == key:
        return {**_read_manifest(out), "cached": True}
    if out.exists() and not (out.is_dir() and not any(out.iterdir())):
        what = "a TAPT model of other inputs" if found else "other files"
        what = what if out.is_dir() else "a file of that name"
        raise UserError(f"--out {out}: already holds {what}; choose a new directory")
    with paths.atomic_directory(
        out, lambda path: _manifest_key(path) == key, flag=f"--out {out}"
    ) as scratch:
        manifest = train_mlm(model_path, corpus, params, scratch, progress)
        manifest = {"key": key, "model": model_id, "version": TAPT_VERSION, **manifest}
        (scratch / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return {**manifest, "cached": False}


def _manifest_key(out: Path) -> str | None:
    try:
        return _read_manifest(out).get("key")
    except (OSError, ValueError, AttributeError):
        return None


def _read_manifest(out: Path) -> dict[str, Any]:
    return json.loads((out / MANIFEST).read_text(encoding="utf-8"))


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
