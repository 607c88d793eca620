"""TAPT on the tiny model: masked-LM training, the saved model, the cache and bad input."""

import dataclasses
import json
import math
from pathlib import Path

import pytest
import torch

from common import _paths as paths
from common._cli import run_main
from objectives.data._labels import klue_labels
from objectives.encoding._markers import special_tokens
from objectives.models import _loading as loading
from objectives.models import _tiny as tiny_model
from objectives.models._adapted import MANIFEST, TaptParams
from objectives.models._heads import build_classifier
from objectives.models._resolve import resolve_model
from objectives.tapt import main
from objectives.training._loop import Workspace
from tests.toy import toy_data, write_toy_files


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return write_toy_files(tmp_path_factory.mktemp("corpus"), train=96, dev=32)


@pytest.fixture(scope="module")
def adapted(corpus, tmp_path_factory):
    """One real TAPT run (1 epoch) through the CLI's main: (output directory, printed record)."""
    out = tmp_path_factory.mktemp("tapt") / "adapted"
    return out, _main(["--model", "tiny", "--corpus", *map(str, corpus), "--out", str(out),
                       "--epochs", "1", "--max_len", "32"])  # fmt: skip


def _main(argv):
    import contextlib
    import io

    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        assert main(argv) == 0
    return json.loads(buffer.getvalue())


@pytest.mark.slow
def test_masked_lm_loss_goes_down_and_is_recorded(adapted):
    out, record = adapted
    assert record["cached"] is False and record["steps"] == 3  # 96 distinct sentences / 32
    before, after = record["mlm_loss_before"], record["mlm_loss_after"]
    assert math.isfinite(before) and math.isfinite(after)
    assert after < before
    assert json.loads((out / MANIFEST).read_text())["key"] == record["key"]


@pytest.mark.slow
def test_adapted_model_loads_for_classification_with_the_base_pooler(adapted, corpus):
    out, record = adapted
    data = toy_data(96, 32)
    base = tiny_model.ensure_tiny_model(data.sentences())
    assert base.name == record["model"]  # the same tiny model a search on these files uses
    tokenizer = loading.load_tokenizer(str(out), special_tokens("typed_punct"))
    adapted_clf = build_classifier(str(out), klue_labels(), "cls", tokenizer).model
    base_clf = build_classifier(str(base), klue_labels(), "cls", tokenizer).model
    emb = "bert.embeddings.word_embeddings.weight"
    a, b = adapted_clf.state_dict(), base_clf.state_dict()
    assert not torch.equal(a[emb], b[emb])  # trained
    assert torch.equal(a["bert.pooler.dense.weight"], b["bert.pooler.dense.weight"])  # kept
    batch = tokenizer(["김철수는 삼성전자에서 일한다."], return_tensors="pt")
    logits = adapted_clf(**batch).logits
    assert logits.shape == (1, len(klue_labels())) and torch.isfinite(logits).all()


@pytest.mark.slow
def test_same_inputs_return_the_saved_model_at_once(adapted, corpus, tmp_path):
    out, first = adapted
    weights = (out / "model.safetensors").stat().st_mtime_ns
    # labels are never read: a copy of the corpus with other labels is the same corpus
    relabeled = tmp_path / "train.json"
    rows = json.loads(corpus[0].read_text(encoding="utf-8"))
    relabeled.write_text(json.dumps([r | {"label": "per:title"} for r in rows]), encoding="utf-8")
    argv = ["--model", "tiny", "--corpus", str(relabeled), str(corpus[1]), "--out", str(out)]
    again = _main([*argv, "--epochs", "1", "--max_len", "32"])
    assert again["cached"] is True and again["key"] == first["key"]
    assert (out / "model.safetensors").stat().st_mtime_ns == weights


def test_tapt_model_name_resolves_through_the_workspace():
    """``tiny+tapt`` builds once per corpus (default TAPT settings) in the cache root, beside
    ``tiny``, in one worker's workspace. (tests/search/test_model_choice.py reuses it.)"""
    data = toy_data(96, 32)
    workspace = Workspace()
    tiny = Path(workspace.model_path("tiny", data))
    adapted = Path(workspace.model_path("tiny+tapt", data))
    assert adapted.parent == tiny.parent == paths.cache_root() / "models"
    record = json.loads((adapted / MANIFEST).read_text())
    assert record["params"] == dataclasses.asdict(TaptParams()) and record["model"] == tiny.name
    assert resolve_model("tiny+tapt", data.sentences) == str(adapted)
    assert loading.max_positions(str(adapted)) == loading.max_positions(str(tiny))


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--model", "tiny", "--corpus", "MISSING.json"], "MISSING.json: data file not found"),
        (["--model", "tiny", "--corpus", "EMPTY.json"], "EMPTY.json: file is empty"),
        (["--model", "tiny", "--corpus", "NOROWS.json"], "NOROWS.json: no examples"),
        (["--model", "no-such-org/no-such-model", "--corpus", "TRAIN"], "not found on the hub"),
        (["--model", "+tapt", "--corpus", "TRAIN"], "'+tapt' must follow a model name"),
        (["--model", "tiny+tapt", "--corpus", "TRAIN"], "already an adapted model's name"),
        (["--model", "tiny", "--corpus", "TRAIN", "--epochs", "0"], "--epochs: must be > 0"),
        (["--model", "tiny", "--corpus", "TRAIN", "--mlm_probability", "1"], "--mlm_probability"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(argv, expected, corpus, tmp_path, capsys):
    (tmp_path / "EMPTY.json").write_text("")
    (tmp_path / "NOROWS.json").write_text("[]")
    files = {"TRAIN": str(corpus[0])}
    files |= {name: str(tmp_path / name) for name in ("MISSING.json", "EMPTY.json", "NOROWS.json")}
    argv = [files.get(a, a) for a in argv]
    with pytest.raises(SystemExit) as info:
        run_main(main, [*argv, "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err.strip()
    assert info.value.code == 2 and expected in err and "\n" not in err, err
    assert not (tmp_path / "out").exists()


def test_out_holding_something_else_is_refused_before_training(corpus, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    with pytest.raises(SystemExit) as info:
        run_main(main, ["--model", "tiny", "--corpus", str(corpus[0]), "--out", str(out)])
    assert info.value.code == 2
    assert "already holds other files" in capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]
