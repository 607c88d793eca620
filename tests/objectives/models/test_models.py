from __future__ import annotations

import json
import random
import subprocess
import sys
import time
from pathlib import Path

import huggingface_hub.constants
import pytest
import torch
from transformers import (
    AutoModelForSequenceClassification,
    AutoTokenizer,
    BertConfig,
    RobertaConfig,
)

from common import _paths as paths
from common._cli import UserError
from objectives.data._dataset import Entity
from objectives.encoding._markers import ENTITY_TYPES, all_special_tokens, mark
from objectives.models import _loading as loading
from objectives.models import _resolve as resolve
from objectives.models import _tiny as tiny_model

BASE = [
    "이순신은 조선 중기의 무신이었다.",
    "삼성전자는 1969년 1월 13일 경기도 수원시에서 설립되었다.",
    "조지 해리슨은 비틀즈의 기타리스트로 활동했다.",
    "문재인 대통령은 청와대에서 기자회견을 열었다.",
    "서울대학교는 대한민국 서울특별시 관악구에 있는 국립 대학교이다.",
    "KBS 뉴스에 따르면 정부는 새로운 정책을 발표했다.",
    "박지성은 맨체스터 유나이티드에서 뛰었던 축구 선수이다.",
    "한국은행은 기준금리를 0.25%포인트 인상했다고 밝혔다.",
    "김연아는 2010년 밴쿠버 동계 올림픽에서 금메달을 땄다.",
    "현대자동차의 본사는 서울특별시 서초구 양재동에 있다.",
]


def make_corpus(n: int = 400, seed: int = 0) -> list[str]:
    """Sentences recombined from BASE's words, so the corpus has real Korean morphology."""
    words = [w for s in BASE for w in s.split()]
    rng = random.Random(seed)
    return BASE + [" ".join(rng.choices(words, k=rng.randint(5, 15))) for _ in range(n)]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_model.ensure_tiny_model(make_corpus(), tmp_path_factory.mktemp("cache"))


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    loading._hub_has.cache_clear()


def test_tiny_model_is_a_saved_pretrained_checkpoint(tiny: Path) -> None:
    config = json.loads((tiny / "config.json").read_text())
    assert config["model_type"] == "bert"
    assert config["hidden_size"] == 128 and config["num_hidden_layers"] == 2
    assert config["max_position_embeddings"] == 512
    assert (tiny / "tokenizer.json").is_file() and (tiny / "model.safetensors").is_file()
    assert tiny.parent.name == "models" and tiny.name.startswith("tiny-")


def test_tiny_model_loads_through_auto_classes_and_runs(tiny: Path) -> None:
    tokenizer = AutoTokenizer.from_pretrained(str(tiny))
    model = AutoModelForSequenceClassification.from_pretrained(str(tiny), num_labels=30)
    assert tokenizer.is_fast
    batch = tokenizer(BASE[:3], padding=True, return_tensors="pt")
    with torch.no_grad():
        logits = model(**batch).logits
    assert logits.shape == (3, 30)
    assert len(tokenizer) == model.get_input_embeddings().num_embeddings


def test_tiny_weights_do_not_depend_on_the_global_seed(tmp_path: Path) -> None:
    corpus = make_corpus(50)
    torch.manual_seed(123)
    first = tiny_model.ensure_tiny_model(corpus, tmp_path / "a")
    after = torch.rand(1)
    torch.manual_seed(123)
    second = tiny_model.ensure_tiny_model(corpus, tmp_path / "b")
    assert torch.equal(after, torch.rand(1))  # building did not consume the caller's stream
    assert (first / "model.safetensors").read_bytes() == (second / "model.safetensors").read_bytes()


def test_two_builds_in_two_processes_give_the_same_tokenizer(tmp_path: Path) -> None:
    """The vocabulary must not depend on the process (tokenizers' WordPiece trainer numbers its
    pieces in hash-map order, seeded per process): separate interpreters, separate caches."""
    corpus = tmp_path / "corpus.json"
    corpus.write_text(json.dumps(make_corpus(300)), encoding="utf-8")
    script = (
        "import json, sys; from pathlib import Path; "
        "from objectives.models import _tiny as tiny_model; "
        "corpus = json.loads(Path(sys.argv[1]).read_text(encoding='utf-8')); "
        "print(tiny_model.ensure_tiny_model(corpus, Path(sys.argv[2])))"
    )
    built = []
    for name in ("a", "b", "c"):
        done = subprocess.run(
            [sys.executable, "-c", script, str(corpus), str(tmp_path / name)],
            capture_output=True, text=True, timeout=120, check=True,
        )  # fmt: skip
        built.append((Path(done.stdout.strip()) / "tokenizer.json").read_bytes())
    assert built[0] == built[1] == built[2]


def test_building_prints_nothing(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    tiny_model.ensure_tiny_model(make_corpus(30), tmp_path)
    captured = capfd.readouterr()
    assert captured.out == "" and captured.err == ""


def test_second_call_reuses_the_cached_build(tiny: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stamp = (tiny / "config.json").stat().st_mtime_ns

    def no_rebuild(*_: object) -> None:
        raise AssertionError("rebuilt a cached tiny model")

    monkeypatch.setattr(tiny_model, "_build_tiny", no_rebuild)
    again = tiny_model.ensure_tiny_model(reversed(make_corpus()), tiny.parent.parent)
    assert again == tiny
    assert (tiny / "config.json").stat().st_mtime_ns == stamp


def test_another_corpus_gets_another_directory(tiny: Path) -> None:
    other = tiny_model.ensure_tiny_model(make_corpus(seed=1), tiny.parent.parent)
    assert other != tiny and other.parent == tiny.parent
    assert tiny_model.corpus_fingerprint(["b", "a"]) == tiny_model.corpus_fingerprint(["a", "b"])
    assert tiny_model.corpus_fingerprint(["a"]) != tiny_model.corpus_fingerprint(["a", "a"])


def test_lost_race_uses_the_winners_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    corpus = make_corpus(20)
    winner = tmp_path / "models" / f"tiny-{tiny_model.corpus_fingerprint(corpus)}"
    build = tiny_model._build_tiny

    def build_then_lose(corpus: list[str], out: Path) -> None:
        build(corpus, out)
        winner.mkdir()
        (winner / "theirs").write_text("x")

    monkeypatch.setattr(tiny_model, "_build_tiny", build_then_lose)
    assert tiny_model.ensure_tiny_model(corpus, tmp_path) == winner
    assert (winner / "theirs").is_file()
    assert sorted(p.name for p in winner.parent.iterdir()) == [winner.name]  # scratch removed


def test_cache_root_defaults_to_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setenv(paths.CACHE_ENV, str(tmp_path))
    assert paths.cache_root() == tmp_path
    monkeypatch.delenv(paths.CACHE_ENV)
    assert paths.cache_root() == Path.home() / ".cache" / "re-search"


def test_unwritable_cache_is_a_user_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    with pytest.raises(UserError, match=r"cannot write the cache.*RE_SEARCH_CACHE"):
        tiny_model.ensure_tiny_model(["가나다"], tmp_path / "file")


def test_empty_corpus_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="--model tiny"):
        tiny_model.ensure_tiny_model([], tmp_path)


def test_marker_tokens_stay_whole_and_punctuation_is_ordinary(tiny: Path) -> None:
    tokenizer = loading.load_tokenizer(str(tiny))
    for token in all_special_tokens():
        assert tokenizer.tokenize(f"가 {token} 나")[1] == token
    vocab = tokenizer.get_vocab()
    specials = set(tokenizer.all_special_tokens)
    for char in "@*#^":
        assert char in vocab and char not in specials
    for entity_type in ENTITY_TYPES:
        assert tokenizer.tokenize(entity_type) == [entity_type]


def test_korean_is_split_into_subwords_with_few_unknowns(tiny: Path) -> None:
    tokenizer = loading.load_tokenizer(str(tiny))
    encoded = tokenizer(make_corpus(), add_special_tokens=False)["input_ids"]
    total = sum(len(ids) for ids in encoded)
    unknown = sum(ids.count(tokenizer.unk_token_id) for ids in encoded)
    assert unknown / total < 0.01
    # A word never seen whole, made of seen syllables, becomes pieces rather than [UNK].
    pieces = tokenizer.tokenize("조선이순신")
    assert len(pieces) > 1 and tokenizer.unk_token not in pieces
    assert any(piece.startswith("##") for piece in pieces)


def test_marked_sentence_keeps_offsets_and_has_no_unknowns(tiny: Path) -> None:
    tokenizer = loading.load_tokenizer(str(tiny))
    sentence = BASE[2]
    subject = Entity("조지 해리슨", 0, 5, "PER")
    obj = Entity("비틀즈", 8, 10, "ORG")
    for scheme in ("entity", "typed_punct", "typed_entity"):
        marked = mark(sentence, subject, obj, scheme)
        encoded = tokenizer(marked.text, return_offsets_mapping=True)
        assert tokenizer.unk_token_id not in encoded["input_ids"]
        starts = [start for start, end in encoded["offset_mapping"] if end > start]
        assert marked.subject_start in starts and marked.object_start in starts


def test_load_tokenizer_adds_missing_tokens_and_keeps_existing(tiny: Path) -> None:
    base = loading.load_tokenizer(str(tiny))
    grown = loading.load_tokenizer(str(tiny), ["[E1]", "<NEW>", "<NEW>"])
    assert len(grown) == len(base) + 1
    assert grown.tokenize("가 <NEW> 나")[1] == "<NEW>"
    assert set(all_special_tokens()) <= set(grown.all_special_tokens)
    grown.add_tokens(["changed"])  # a copy: the next caller does not see this
    assert len(loading.load_tokenizer(str(tiny), ["[E1]", "<NEW>", "<NEW>"])) == len(base) + 1


def test_load_model_resizes_embeddings_when_the_tokenizer_grew(tiny: Path) -> None:
    tokenizer = loading.load_tokenizer(str(tiny), ["<A>", "<B>"])
    model = loading.load_model(
        str(tiny),
        3,
        tokenizer,
        id2label={0: "x", 1: "y", 2: "z"},
        label2id={"x": 0, "y": 1, "z": 2},
    )
    assert model.get_input_embeddings().num_embeddings == len(tokenizer)
    assert model.config.num_labels == 3 and model.config.id2label[2] == "z"


def test_slow_only_tokenizer_is_a_user_error(tiny: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    class Slow:
        is_fast = False

    monkeypatch.setattr(AutoTokenizer, "from_pretrained", lambda *a, **k: Slow())
    loading._cached_tokenizer.cache_clear()
    with pytest.raises(UserError, match="fast tokenizer"):
        loading.load_tokenizer(str(tiny))
    loading._cached_tokenizer.cache_clear()


def test_resolve_model(tiny: Path, tmp_path: Path) -> None:
    calls: list[int] = []

    def corpus() -> list[str]:
        calls.append(1)
        return make_corpus()

    assert resolve.resolve_model("tiny", corpus, tiny.parent.parent) == str(tiny)
    assert calls == [1]
    assert resolve.resolve_model(str(tmp_path)) == str(tmp_path)
    assert resolve.resolve_model("klue/roberta-large", corpus) == "klue/roberta-large"
    assert calls == [1]  # the corpus is read only for tiny
    with pytest.raises(UserError, match="tiny"):
        resolve.resolve_model("tiny")


def test_parse_model_tells_each_kind_of_name_apart(tmp_path: Path) -> None:
    plus = tmp_path / "odd+tapt"
    plus.mkdir()
    parsed = {
        name: (m.base, m.kind, m.tapt)
        for name in ["tiny", "tiny+tapt", str(tmp_path), f"{tmp_path}+tapt", "a/b+tapt", str(plus)]
        for m in [resolve.parse_model(name)]
    }
    assert parsed == {
        "tiny": ("tiny", "tiny", False),
        "tiny+tapt": ("tiny", "tiny", True),
        str(tmp_path): (str(tmp_path), "directory", False),
        f"{tmp_path}+tapt": (str(tmp_path), "directory", True),
        "a/b+tapt": ("a/b", "hub", True),
        str(plus): (str(plus), "directory", False),  # a directory named like that is one
    }
    for bad in ["+tapt", " tiny+tapt", "tiny+tapt+tapt"]:
        with pytest.raises(UserError, match="must follow a model name"):
            resolve.parse_model(bad)


def test_check_available_needs_config_and_weights_in_a_directory(tmp_path: Path) -> None:
    resolve.check_available("tiny+tapt")  # built on demand: nothing to check
    with pytest.raises(UserError, match=r"no config\.json"):
        resolve.check_available(f"{tmp_path}+tapt")
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(UserError, match="no weights"):
        resolve.check_available(str(tmp_path))
    (tmp_path / "model.safetensors").write_bytes(b"")
    resolve.check_available(str(tmp_path))


def test_max_positions_for_bert_and_roberta(tmp_path: Path) -> None:
    small = {"hidden_size": 32, "num_hidden_layers": 1, "num_attention_heads": 2}
    BertConfig(max_position_embeddings=512, **small).save_pretrained(tmp_path / "bert")
    RobertaConfig(max_position_embeddings=514, pad_token_id=1, **small).save_pretrained(
        tmp_path / "roberta"
    )
    assert loading.max_positions(str(tmp_path / "bert")) == 512
    assert loading.max_positions(str(tmp_path / "roberta")) == 512


def test_local_directory_without_a_model_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=f"--model {tmp_path}: cannot load it"):
        loading.max_positions(str(tmp_path))


HUB_MESSAGE = (
    "--model no-such-org/no-such-model: not a local directory, and not found on the hub or in "
    "the local cache; pass a local path or 'tiny'"
)


@pytest.mark.usefixtures("offline")
@pytest.mark.parametrize("call", ["tokenizer", "model", "positions"])
def test_unknown_hub_id_offline_fails_fast(call: str, tiny: Path) -> None:
    tokenizer = loading.load_tokenizer(str(tiny))
    calls = {
        "tokenizer": lambda: loading.load_tokenizer("no-such-org/no-such-model"),
        "model": lambda: loading.load_model("no-such-org/no-such-model", 2, tokenizer),
        "positions": lambda: loading.max_positions("no-such-org/no-such-model"),
    }
    started = time.monotonic()
    with pytest.raises(UserError) as caught:
        calls[call]()
    assert str(caught.value) == HUB_MESSAGE
    assert time.monotonic() - started < 5


def test_unknown_hub_id_without_offline_mode_fails_fast(monkeypatch: pytest.MonkeyPatch) -> None:
    # Whether the hub is unreachable (no retries) or answers 404, the error comes quickly.
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    loading._hub_has.cache_clear()
    started = time.monotonic()
    with pytest.raises(UserError) as caught:
        loading.load_tokenizer("no-such-org/no-such-model")
    assert str(caught.value) == HUB_MESSAGE
    assert time.monotonic() - started < 20
    loading._hub_has.cache_clear()
