"""Tokenized examples for one (tokenizer, marker scheme, max_len, data) and their on-disk cache.

Tokenizing is the same for every trial that shares those four things, so it is done once and
kept: in this process (a dict) and on disk (one ``.npz`` per key, written to a temporary file and
renamed into place, so two workers building the same entry at once both end with a whole file).
A search tries several ``max_len`` values; the text is tokenized once per marker scheme without
truncation and each ``max_len`` is cut from that, the way the tokenizer's own truncation cuts a
single sequence (the text's last tokens go, the special tokens around them stay).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from objectives.data._dataset import Dataset
from objectives.data._labels import LabelSet
from objectives.encoding._markers import char_to_token, mark_example

CACHE_VERSION = "features-v2"  # part of the cache key: features are stored untruncated
IGNORE_LABEL = -100


@dataclass(frozen=True)
class Features:
    """Token ids of every example, stored flat: example ``i`` is ``ids[starts[i]:starts[i+1]]``.

    ``subject_index``/``object_index`` are the token positions of the entities' start markers
    (0, the first token, where truncation cut the marker off). ``labels`` holds label ids, or
    ``IGNORE_LABEL`` for unlabeled examples.
    """

    ids: np.ndarray
    starts: np.ndarray
    subject_index: np.ndarray
    object_index: np.ndarray
    labels: np.ndarray
    truncated_entities: int

    def __len__(self) -> int:
        return len(self.starts) - 1

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.starts)

    def input_ids(self, i: int) -> np.ndarray:
        return self.ids[self.starts[i] : self.starts[i + 1]]


def tokenizer_fingerprint(tokenizer) -> str:
    fingerprint = _FINGERPRINTS.get(tokenizer)
    if fingerprint is None:
        fingerprint = _FINGERPRINTS[tokenizer] = _tokenizer_fingerprint(tokenizer)
    return fingerprint


# Serializing a tokenizer costs tens of milliseconds; a tokenizer object is hashed once.
_FINGERPRINTS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _tokenizer_fingerprint(tokenizer) -> str:
    """A hash of everything that decides how the tokenizer splits text.

    The backend's truncation and padding state is left out: a fast tokenizer keeps the settings
    of its last call there, and they do not change how text splits.
    """
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is None:
        text = repr(sorted(tokenizer.get_vocab().items()))
    else:
        spec = json.loads(backend.to_str())
        spec.pop("truncation", None)
        spec.pop("padding", None)
        text = json.dumps(spec, sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def encode(
    dataset: Dataset,
    tokenizer,
    scheme: str,
    max_len: int,
    labels: LabelSet | None,
    unmarked: Sequence[bool] | None = None,
) -> Features:
    """Mark and tokenize every example (one batched call to the fast tokenizer).

    ``unmarked`` (marker-token dropout, training data only) says per example whether to leave its
    markers out: such an example is tokenized as the plain sentence (scheme ``none``).
    """
    return _at_markers(_encode(dataset, tokenizer, scheme, max_len, labels, unmarked))


def _encode(
    dataset: Dataset,
    tokenizer,
    scheme: str,
    max_len: int | None,
    labels: LabelSet | None,
    unmarked: Sequence[bool] | None = None,
) -> Features:
    """:func:`encode`, with ``max_len`` None for no truncation and the entity indices raw: -1
    where a marker has no token."""
    plain = unmarked if unmarked is not None else [False] * len(dataset)
    marked = [
        mark_example(ex, "none" if drop else scheme)
        for ex, drop in zip(dataset.examples, plain, strict=True)
    ]
    encoded = tokenizer(
        [m.text for m in marked],
        truncation=max_len is not None,
        max_length=max_len,
        return_offsets_mapping=True,
        return_attention_mask=False,
        return_token_type_ids=False,
    )
    ids_list = encoded["input_ids"]
    lengths = np.fromiter((len(ids) for ids in ids_list), dtype=np.int64, count=len(ids_list))
    starts = np.zeros(len(ids_list) + 1, dtype=np.int64)
    np.cumsum(lengths, out=starts[1:])
    subject_index = np.full(len(marked), -1, dtype=np.int64)
    object_index = np.full(len(marked), -1, dtype=np.int64)
    for i, (m, offsets) in enumerate(zip(marked, encoded["offset_mapping"], strict=True)):
        s = char_to_token(offsets, m.subject_start)
        o = char_to_token(offsets, m.object_start)
        subject_index[i] = -1 if s is None else s
        object_index[i] = -1 if o is None else o
    label_ids = np.array(
        [
            IGNORE_LABEL if ex.label is None or labels is None else labels.id(ex.label)
            for ex in dataset.examples
        ],
        dtype=np.int64,
    )
    flat = np.fromiter((t for ids in ids_list for t in ids), dtype=np.int32, count=int(starts[-1]))
    return Features(flat, starts, subject_index, object_index, label_ids, 0)


def _at_markers(raw: Features) -> Features:
    """Raw entity indices (-1: no token) as :class:`Features` gives them: 0, and counted."""
    lost = (raw.subject_index < 0) | (raw.object_index < 0)
    return Features(
        raw.ids,
        raw.starts,
        np.maximum(raw.subject_index, 0),
        np.maximum(raw.object_index, 0),
        raw.labels,
        int(lost.sum()),
    )


def special_layout(tokenizer) -> tuple[int, int] | None:
    """How many special tokens the tokenizer puts before and after a single text, or None where
    its truncation cannot be redone by cutting (it cuts from the left, or the text's tokens do
    not appear whole between the special ones)."""
    if getattr(tokenizer, "truncation_side", "right") != "right":
        return None
    body = tokenizer("a b", add_special_tokens=False)["input_ids"]
    full = tokenizer("a b")["input_ids"]
    extra = len(full) - len(body)
    if not body or extra < 0:
        return None
    for before in range(extra + 1):
        if full[before : before + len(body)] == body:
            return before, extra - before
    return None


def truncate(raw: Features, max_len: int, layout: tuple[int, int]) -> Features:
    """``raw`` (tokenized without truncation, by :func:`_encode`) cut to ``max_len`` tokens:
    each text keeps its first ``max_len`` minus the special tokens, and its special tokens."""
    before, after = layout
    lengths = raw.lengths
    body = lengths - before - after
    kept_body = np.minimum(body, max(0, max_len - before - after))
    kept = kept_body + before + after
    starts = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(kept, out=starts[1:])
    position = np.arange(len(raw.ids)) - np.repeat(raw.starts[:-1], lengths)
    head = np.repeat(before + kept_body, lengths)
    tail = np.repeat(lengths - after, lengths)
    ids = raw.ids[(position < head) | (position >= tail)]
    end = before + kept_body  # an entity marker at or past this position was cut off

    def cut(index: np.ndarray) -> np.ndarray:
        return np.where(index < end, index, -1)

    return _at_markers(
        Features(ids, starts, cut(raw.subject_index), cut(raw.object_index), raw.labels, 0)
    )


def cache_key(
    dataset: Dataset, tokenizer, scheme: str, max_len: int | None, labels: LabelSet | None
) -> str:
    label_part = ",".join(labels.names) if labels is not None else "-"
    parts = [
        CACHE_VERSION,
        tokenizer_fingerprint(tokenizer),
        scheme,
        "full" if max_len is None else str(max_len),
        dataset.fingerprint,
        hashlib.sha256(label_part.encode()).hexdigest()[:8],
    ]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:24]


class FeatureCache:
    """Tokenized data, in memory for this process and on disk under ``root`` for every process."""

    def __init__(self, root: Path | None) -> None:
        self.root = root
        self._memory: dict[str, Features] = {}
        self.hits = {"memory": 0, "disk": 0, "built": 0}

    def get(
        self, dataset: Dataset, tokenizer, scheme: str, max_len: int, labels: LabelSet | None
    ) -> Features:
        key = cache_key(dataset, tokenizer, scheme, max_len, labels)
        if key in self._memory:
            self.hits["memory"] += 1
            return self._memory[key]
        layout = special_layout(tokenizer)
        if layout is None:  # tokenized for this max_len, as the tokenizer truncates
            features = self._raw(key, dataset, tokenizer, scheme, max_len, labels, _at_markers)
        else:  # cut from the text tokenized once without truncation
            full = cache_key(dataset, tokenizer, scheme, None, labels)
            raw = self._raw(full, dataset, tokenizer, scheme, None, labels, lambda raw: raw)
            features = truncate(raw, max_len, layout)
        self._memory[key] = features
        return features

    def _raw(self, key, dataset, tokenizer, scheme, max_len, labels, finish) -> Features:
        """The entry ``key``: from memory, else from disk, else tokenized (and stored), then
        ``finish``-ed and kept in memory."""
        if key in self._memory:
            self.hits["memory"] += 1
            return self._memory[key]
        features = self._load(key)
        if features is None:
            features = _encode(dataset, tokenizer, scheme, max_len, labels)
            self._store(key, features)
            self.hits["built"] += 1
        else:
            self.hits["disk"] += 1
        self._memory[key] = features = finish(features)
        return features

    def _path(self, key: str) -> Path | None:
        return None if self.root is None else self.root / f"{key}.npz"

    def _load(self, key: str) -> Features | None:
        path = self._path(key)
        if path is None or not path.exists():
            return None
        try:
            with np.load(path, allow_pickle=False) as z:
                return Features(
                    z["ids"],
                    z["starts"],
                    z["subject_index"],
                    z["object_index"],
                    z["labels"],
                    int(z["truncated_entities"]),
                )
        except (OSError, KeyError, ValueError):
            return None  # a damaged entry is rebuilt, never trusted

    def _store(self, key: str, features: Features) -> None:
        path = self._path(key)
        if path is None:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{key}.", suffix=".npz", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as f:
                np.savez(
                    f,
                    ids=features.ids,
                    starts=features.starts,
                    subject_index=features.subject_index,
                    object_index=features.object_index,
                    labels=features.labels,
                    truncated_entities=np.int64(features.truncated_entities),
                )
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
