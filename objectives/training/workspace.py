"""What many runs in one process share: resolved models, tokenizers and tokenized data."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from objectives.data.inputs import TrialData
from objectives.encoding.features import FeatureCache
from objectives.encoding.markers import special_tokens
from objectives.models.loading import import_model_classes, load_tokenizer
from objectives.models.resolve import resolve_model


class Workspace:
    """What many runs in one process share: resolved models, tokenizers and tokenized data."""

    def __init__(self, cache_dir: Path | None = None) -> None:
        self.cache_dir = cache_dir
        self.features = FeatureCache(cache_dir / "features" if cache_dir else None)
        self._models: dict[tuple[str, str], str] = {}
        self._tokenizers: dict[tuple[str, str], object] = {}

    def model_path(self, name: str, data: TrialData) -> str:
        key = (name, data.train.fingerprint)
        if key not in self._models:
            path = resolve_model(name, corpus=data.sentences, cache_root=self.cache_dir)
            self._models[key] = path
        return self._models[key]

    def prepare(self, name: str, data: TrialData, markers: Sequence[str] = ()) -> str:
        """What a worker does once before its first trial: resolve (or build) ``name``, import
        its model classes and load its tokenizer for each marker scheme in ``markers``."""
        path = self.model_path(name, data)
        import_model_classes(path)
        for scheme in markers:
            self.tokenizer(path, scheme)
        return path

    def tokenizer(self, model_path: str, markers: str):
        """One tokenizer per (model, marker scheme) for all runs: never modified after loading."""
        key = (model_path, markers)
        if key not in self._tokenizers:
            self._tokenizers[key] = load_tokenizer(model_path, special_tokens(markers))
        return self._tokenizers[key]
