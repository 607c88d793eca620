"""What many runs in one process share: resolved models, tokenizers and tokenized data."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from objectives._hparams import HParams
from objectives.data._augment import augment_train
from objectives.data._inputs import TrialData
from objectives.encoding._features import FeatureCache, Features, encode
from objectives.encoding._markers import special_tokens
from objectives.models._loading import import_model_classes, load_tokenizer
from objectives.models._resolve import resolve_model


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

    def train_features(
        self, hp: HParams, data: TrialData, tokenizer
    ) -> tuple[Features, dict[str, int]]:
        """The train set's features, augmented when ``hp`` says so (dev and test never are), and
        how many examples each augmentation added or changed (``train_entity_swap``, ...).

        Augmented data is drawn once per run from ``hp.seed``, so the step schedule is fixed
        before training starts, and tokenized for this run alone, bypassing the feature cache: it
        depends on the seed and the probabilities, which differ from trial to trial in a search
        that varies them, so a cached entry would rarely be read again and would only fill memory
        and disk.
        """
        augmentation = hp.augmentation()
        if augmentation is None:
            features = self.features.get(data.train, tokenizer, hp.markers, hp.max_len, data.labels)
            return features, {}
        augmented = augment_train(data.train, **augmentation)
        features = encode(
            augmented.dataset, tokenizer, hp.markers, hp.max_len, data.labels, augmented.unmarked
        )
        return features, {f"train_{name}": count for name, count in augmented.added.items()}
