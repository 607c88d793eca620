"""Loading tokenizers and models through transformers' ``Auto*`` classes, for the tiny model,
local directories and hub ids alike (:mod:`objectives.models._resolve` turns ``--model`` into
what these take).

Hub ids fail fast when the hub cannot be reached: the local HF cache is tried first, then the hub
is probed once without retries, so an offline machine gets a one-line error within seconds instead
of minutes of back-off.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from common._cli import UserError

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase


_HUB_PROBE_TIMEOUT_S = 5.0
# Model types whose position ids start at padding_idx + 1, so two positions are never inputs.
_OFFSET_POSITION_TYPES = frozenset(
    {"roberta", "xlm-roberta", "xlm-roberta-xl", "camembert", "roberta-prelayernorm", "xmod",
     "data2vec-text", "longformer", "luke", "mpnet"}
)  # fmt: skip

_T = TypeVar("_T")


def load_tokenizer(
    name_or_path: str, extra_special_tokens: Sequence[str] = ()
) -> PreTrainedTokenizerBase:
    """A fast tokenizer for ``name_or_path`` with ``extra_special_tokens`` as special tokens.

    Tokens it lacks are added as extra special tokens, keeping the ones it already has. Loaded
    tokenizers are kept per process; each call returns its own copy, so a caller may change it.
    """
    return copy.deepcopy(_cached_tokenizer(name_or_path, tuple(extra_special_tokens)))


@functools.lru_cache(maxsize=8)
def _cached_tokenizer(name_or_path: str, extra: tuple[str, ...]) -> PreTrainedTokenizerBase:
    from transformers import AutoTokenizer

    tokenizer = _from_pretrained(AutoTokenizer.from_pretrained, name_or_path, use_fast=True)
    if not tokenizer.is_fast:
        raise UserError(
            f"--model {name_or_path}: has only a slow (Python) tokenizer; a fast tokenizer is "
            "needed for the character offsets of the entity markers"
        )
    have = set(tokenizer.all_special_tokens)
    missing = [token for token in dict.fromkeys(extra) if token not in have]
    if missing:
        tokenizer.add_special_tokens(
            {"extra_special_tokens": missing}, replace_extra_special_tokens=False
        )
    return tokenizer


def load_model(
    name_or_path: str,
    num_labels: int,
    tokenizer: PreTrainedTokenizerBase,
    id2label: dict[int, str] | None = None,
    label2id: dict[str, int] | None = None,
) -> PreTrainedModel:
    """A sequence classifier with ``num_labels`` outputs, its embeddings sized to ``tokenizer``."""
    from transformers import AutoModelForSequenceClassification

    extra: dict[str, object] = {}
    if id2label is not None:
        extra["id2label"] = id2label
    if label2id is not None:
        extra["label2id"] = label2id
    model = _from_pretrained(
        AutoModelForSequenceClassification.from_pretrained,
        name_or_path,
        num_labels=num_labels,
        **extra,
    )
    if len(tokenizer) > model.get_input_embeddings().num_embeddings:
        model.resize_token_embeddings(len(tokenizer))
    return model


def import_model_classes(name_or_path: str) -> None:
    """Import the modeling code of ``name_or_path``'s architecture now.

    transformers imports a model's module on first use (1.6 s for BERT on 2 cores, most of a
    first trial's set-up); a search worker calls this before its first trial so that the cost is
    the worker's, once, rather than hidden in whichever trial comes first.
    """
    from transformers import AutoConfig
    from transformers.models.auto.modeling_auto import (
        MODEL_FOR_SEQUENCE_CLASSIFICATION_MAPPING,
        MODEL_MAPPING,
    )

    kind = type(_from_pretrained(AutoConfig.from_pretrained, name_or_path))
    for mapping in (MODEL_MAPPING, MODEL_FOR_SEQUENCE_CLASSIFICATION_MAPPING):
        if kind in mapping:
            mapping[kind]


def load_masked_lm(name_or_path: str) -> PreTrainedModel:
    """The model with a masked-LM head (a fresh head where the checkpoint has none)."""
    from transformers import AutoModelForMaskedLM

    return _from_pretrained(AutoModelForMaskedLM.from_pretrained, name_or_path)


def max_positions(name_or_path: str) -> int:
    """The longest input, in tokens, special tokens included, that the model takes."""
    from transformers import AutoConfig

    config = _from_pretrained(AutoConfig.from_pretrained, name_or_path)
    return positions_of(config, name_or_path)


def positions_of(config: object, name: str = "model") -> int:
    """:func:`max_positions` for an already loaded config."""
    limit = getattr(config, "max_position_embeddings", None)
    if not isinstance(limit, int) or limit <= 0:
        raise UserError(f"--model {name}: its config gives no max_position_embeddings")
    if getattr(config, "model_type", None) in _OFFSET_POSITION_TYPES:
        pad = getattr(config, "pad_token_id", None)
        limit -= (pad if isinstance(pad, int) else 1) + 1
    return limit


def _from_pretrained(loader: Callable[..., _T], name: str, **kwargs: object) -> _T:
    """``loader(name)``, with a missing or unreachable model turned into a one-line UserError."""
    from huggingface_hub.errors import HTTPError

    if Path(name).is_dir():
        try:
            return loader(name, **kwargs)
        except (OSError, ValueError) as exc:
            raise UserError(f"--model {name}: cannot load it: {_first_line(exc)}") from None
    try:
        return loader(name, local_files_only=True, **kwargs)
    except (OSError, ValueError):
        pass  # not (wholly) in the local cache: the hub may still have it
    if not _hub_has(name):
        raise not_found(name)
    try:
        return loader(name, **kwargs)
    except (OSError, ValueError, HTTPError) as exc:
        raise UserError(f"--model {name}: cannot load it: {_first_line(exc)}") from None


def known_to_hub(name: str) -> bool:
    """Whether hub id ``name`` is in the local cache or on a reachable hub (nothing is loaded)."""
    from huggingface_hub import try_to_load_from_cache

    try:
        found = try_to_load_from_cache(name, "config.json")
    except ValueError:  # not a valid repository id
        return False
    return isinstance(found, str) or _hub_has(name)


def not_found(name: str) -> UserError:
    """The one-line error for a ``--model`` that is nowhere to be loaded from."""
    return UserError(
        f"--model {name}: not a local directory, and not found on the hub or in the local "
        "cache; pass a local path or 'tiny'"
    )


@functools.lru_cache(maxsize=32)
def _hub_has(name: str) -> bool:
    """One request, no retries: does the hub answer for ``name``'s config.json?"""
    from huggingface_hub import get_hf_file_metadata, hf_hub_url
    from huggingface_hub.errors import HTTPError

    try:  # in offline mode this raises OfflineModeIsEnabled, an OSError
        get_hf_file_metadata(hf_hub_url(name, "config.json"), timeout=_HUB_PROBE_TIMEOUT_S)
    except (OSError, ValueError, HTTPError):
        return False
    return True


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
