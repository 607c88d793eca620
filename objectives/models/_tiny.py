"""The built-in tiny model: a small BERT (random init, fixed seed) with a WordPiece tokenizer
trained offline on the task's own sentences, the way klue/roberta-* have a BERT WordPiece
vocabulary. It is built once per corpus into the cache and then loaded through the same
``Auto*`` calls as a hub id or a local checkpoint, so nothing downstream knows the difference.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from common import _paths as paths
from common._cli import UserError
from objectives.encoding._markers import ENTITY_TYPES, all_special_tokens

if TYPE_CHECKING:
    from tokenizers import Tokenizer

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
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors

    vocab = {token: i for i, token in enumerate(_BASE_SPECIALS)}
    for token in _learned_pieces(corpus, vocab_size // 2):
        vocab.setdefault(token, len(vocab))
    tokenizer = Tokenizer(
        models.WordPiece(
            vocab=_completed_vocab(vocab),
            unk_token="[UNK]",
            continuing_subword_prefix="##",
            max_input_chars_per_word=100,
        )
    )
    tokenizer.normalizer = _normalizer()
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


def _normalizer():
    from tokenizers import normalizers

    return normalizers.BertNormalizer(
        clean_text=True, handle_chinese_chars=True, strip_accents=False, lowercase=False
    )


def _learned_pieces(corpus: Iterable[str], size: int) -> list[str]:
    """``size`` pieces learned by BPE without a continuation prefix (deterministic), each
    word-initial and then as its ``##`` continuation."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from tokenizers.trainers import BpeTrainer

    learner = Tokenizer(models.BPE(unk_token="[UNK]"))
    learner.normalizer = _normalizer()
    learner.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    trainer = BpeTrainer(
        vocab_size=size,
        min_frequency=2,
        special_tokens=list(_BASE_SPECIALS),
        initial_alphabet=list(_ASCII),
        show_progress=False,
    )
    learner.train_from_iterator(corpus, trainer=trainer)
    learned = sorted(learner.get_vocab(with_added_tokens=False).items(), key=lambda kv: kv[1])
    pieces = [piece for piece, _ in learned if piece not in _BASE_SPECIALS]
    return [*pieces, *(f"##{piece}" for piece in pieces)]


def _completed_vocab(vocab: dict[str, int]) -> dict[str, int]:
    """``vocab`` plus the missing single-character pieces and entity type names, ids appended."""
    chars = sorted({t for t in vocab if len(t) == 1 and t not in _BASE_SPECIALS} | set(_ASCII))
    wanted = [*chars, *(f"##{c}" for c in chars), *ENTITY_TYPES]
    completed = dict(vocab)
    for token in wanted:
        completed.setdefault(token, len(completed))
    return completed
