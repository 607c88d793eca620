"""Which model a trial fine-tunes: the built-in tiny model, local directories and hub ids.

``--model tiny`` is a small BERT (random init, fixed seed) with a WordPiece tokenizer trained
offline on the task's own sentences, the way klue/roberta-* have a BERT WordPiece vocabulary. It is
built once per corpus into a cache directory and then loaded through the same ``Auto*`` calls as a
hub id or a local checkpoint, so nothing downstream knows the difference.

Hub ids fail fast when the hub cannot be reached: the local HF cache is tried first, then the hub
is probed once without retries, so an offline machine gets a one-line error within seconds instead
of minutes of back-off.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import hashlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from common import paths
from common.cli import UserError
from objectives.encoding.markers import ENTITY_TYPES, all_special_tokens

if TYPE_CHECKING:
    from tokenizers import Tokenizer
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

TINY = "tiny"
# ``NAME+tapt``: NAME after task-adaptive pretraining on the task's own sentences
# (objectives.models.tapt)
TAPT_SUFFIX = "+tapt"
# Bump when the tiny recipe changes, so old cache directories are not reused.
TINY_VERSION = "tiny-v2"  # part of the cache key: change it when the recipe changes
TINY_SEED = 0
TINY_VOCAB_SIZE = 8000
TINY_ARCH: dict[str, int] = {
    "hidden_size": 128,
    "num_hidden_layers": 2,
    "num_attention_heads": 2,
    "intermediate_size": 512,
    "max_position_embeddings": 512,
}

_BASE_SPECIALS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
# Printable ASCII: the typed_punct markers (@ * # ^) and Latin text must never become [UNK], even
# where the corpus happens to lack a character.
_ASCII = tuple(chr(c) for c in range(33, 127))
_HUB_PROBE_TIMEOUT_S = 5.0
# Model types whose position ids start at padding_idx + 1, so two positions are never inputs.
_OFFSET_POSITION_TYPES = frozenset(
    {"roberta", "xlm-roberta", "xlm-roberta-xl", "camembert", "roberta-prelayernorm", "xmod",
     "data2vec-text", "longformer", "luke", "mpnet"}
)  # fmt: skip

_T = TypeVar("_T")


def corpus_fingerprint(sentences: Iterable[str]) -> str:
    """A hash of the tiny recipe and the corpus, independent of the sentences' order."""
    digest = hashlib.sha256()
    recipe = [TINY_VERSION, TINY_SEED, TINY_VOCAB_SIZE, sorted(TINY_ARCH.items())]
    digest.update(repr((recipe, all_special_tokens(), ENTITY_TYPES)).encode("utf-8"))
    for sentence in sorted(sentences):
        digest.update(sentence.encode("utf-8"))
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def ensure_tiny_model(sentences: Iterable[str], cache_root: Path | None = None) -> Path:
    """The directory of the tiny model for this corpus, built on first use.

    The build goes to a temporary directory renamed into place, so a reader never sees half a
    model; when another process wins the race, its copy is used and ours is dropped.
    """
    corpus = sorted(sentences)
    if not corpus:
        raise UserError("--model tiny: no sentences to train its tokenizer on")
    models_dir = (cache_root or paths.cache_root()) / "models"
    target = models_dir / f"tiny-{corpus_fingerprint(corpus)}"
    if target.is_dir():
        return target
    with paths.atomic_directory(target, Path.is_dir) as scratch:
        _build_tiny(corpus, scratch)
    return target


def resolve_model(
    name: str,
    corpus: Callable[[], Iterable[str]] | None = None,
    cache_root: Path | None = None,
) -> str:
    """Turn ``--model`` into something ``from_pretrained`` takes.

    ``tiny`` builds (or reuses) the tiny model on ``corpus()``; ``NAME+tapt`` builds (or reuses)
    NAME adapted to ``corpus()`` by masked-LM training (:mod:`objectives.models.tapt`); an existing
    directory is returned as its path; anything else is taken for a hub id and returned unchanged.
    """
    base = tapt_base(name)
    if base is not None:
        if corpus is None:
            raise UserError(f"--model {name}: needs the task's sentences to adapt {base} to")
        from objectives.models.tapt import ensure_tapt_model  # tapt imports this module

        return str(ensure_tapt_model(base, list(corpus()), cache_root))
    if name == TINY:
        if corpus is None:
            raise UserError("--model tiny: needs training sentences to build its tokenizer")
        return str(ensure_tiny_model(corpus(), cache_root))
    if Path(name).expanduser().is_dir():
        return str(Path(name).expanduser())
    return name


def tapt_base(name: str) -> str | None:
    """The model ``NAME+tapt`` adapts (NAME), or None for a plain model name.

    Raises a :class:`UserError` when the suffix hangs on something that is not a model name.
    """
    if not name.endswith(TAPT_SUFFIX) or Path(name).expanduser().is_dir():
        return None  # a directory named like that is a directory
    base = name[: -len(TAPT_SUFFIX)]
    if not base.strip() or base != base.strip() or TAPT_SUFFIX in base:
        raise UserError(
            f"--model {name}: '{TAPT_SUFFIX}' must follow a model name ('tiny', a local "
            f"directory or a hub id), as in tiny{TAPT_SUFFIX}"
        )
    return base


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
        raise UserError(
            f"--model {name}: not a local directory, and not found on the hub or in the local "
            "cache; pass a local path or 'tiny'"
        )
    try:
        return loader(name, **kwargs)
    except (OSError, ValueError, HTTPError) as exc:
        raise UserError(f"--model {name}: cannot load it: {_first_line(exc)}") from None


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


def _build_tiny(corpus: Sequence[str], out: Path) -> None:
    """Train the tokenizer on ``corpus``, init the model with a fixed seed, save both to ``out``."""
    import torch
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=train_wordpiece(corpus),
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
        extra_special_tokens=all_special_tokens(),
        model_max_length=TINY_ARCH["max_position_embeddings"],
    )
    config = BertConfig(vocab_size=len(tokenizer), pad_token_id=tokenizer.pad_token_id, **TINY_ARCH)
    # fork_rng: seeding must not change the caller's random stream.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(TINY_SEED)
        model = BertModel(config)
    tokenizer.save_pretrained(out)
    with _no_progress_bar():
        model.save_pretrained(out)


@contextlib.contextmanager
def _no_progress_bar() -> Iterator[None]:
    """Silence transformers' progress bar: a CLI's stderr keeps only its one-line errors."""
    from transformers.utils import logging as hf_logging

    was_enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_enabled:
            hf_logging.enable_progress_bar()


def train_wordpiece(corpus: Iterable[str], vocab_size: int = TINY_VOCAB_SIZE) -> Tokenizer:
    """A cased BERT WordPiece tokenizer (no accent stripping, which would split Hangul into jamo),
    the same one every time for the same corpus.

    The pieces are learned by tokenizers' BPE trainer without a continuation prefix, and each
    enters the vocabulary twice: word-initial and as its ``##`` continuation. (tokenizers'
    WordPiece trainer gives a different vocabulary from one build to the next on the same corpus:
    it numbers its ``##`` pieces in hash-map order and breaks ties between equally frequent merges
    by those numbers, huggingface/tokenizers#1794; its BPE trainer without a prefix does not.)
    Every character of the alphabet gets its word-initial and its ``##`` piece and the entity
    type names are whole words, so a word is [UNK] only when it holds a character never seen:
    WordPiece turns the whole word into [UNK] when one piece is missing.
    """
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
    from tokenizers.trainers import BpeTrainer

    normalizer = normalizers.BertNormalizer(
        clean_text=True, handle_chinese_chars=True, strip_accents=False, lowercase=False
    )
    learner = Tokenizer(models.BPE(unk_token="[UNK]"))
    learner.normalizer = normalizer
    learner.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    trainer = BpeTrainer(
        vocab_size=vocab_size // 2,
        min_frequency=2,
        special_tokens=list(_BASE_SPECIALS),
        initial_alphabet=list(_ASCII),
        show_progress=False,
    )
    learner.train_from_iterator(corpus, trainer=trainer)
    learned = sorted(learner.get_vocab(with_added_tokens=False).items(), key=lambda kv: kv[1])
    pieces = [piece for piece, _ in learned if piece not in _BASE_SPECIALS]
    vocab = {token: i for i, token in enumerate(_BASE_SPECIALS)}
    for token in [*pieces, *(f"##{piece}" for piece in pieces)]:
        vocab.setdefault(token, len(vocab))

    tokenizer = Tokenizer(
        models.WordPiece(
            vocab=_completed_vocab(vocab),
            unk_token="[UNK]",
            continuing_subword_prefix="##",
            max_input_chars_per_word=100,
        )
    )
    tokenizer.normalizer = normalizer
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tokenizer.decoder = decoders.WordPiece(prefix="##")
    tokenizer.add_special_tokens(list(_BASE_SPECIALS))
    cls, sep = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", cls), ("[SEP]", sep)],
    )
    return tokenizer


def _completed_vocab(vocab: dict[str, int]) -> dict[str, int]:
    """``vocab`` plus the missing single-character pieces and entity type names, ids appended."""
    chars = sorted({t for t in vocab if len(t) == 1 and t not in _BASE_SPECIALS} | set(_ASCII))
    wanted = [*chars, *(f"##{c}" for c in chars), *ENTITY_TYPES]
    completed = dict(vocab)
    for token in wanted:
        completed.setdefault(token, len(completed))
    return completed
