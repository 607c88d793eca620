"""Scoring with a label order other than the one the probabilities were written in: refused
unless the submission carries its own order, which is then used."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from common._cli import UserError
from objectives._metrics import auprc, micro_f1
from objectives.data._labels import LabelSet
from objectives.data._predictions import label_order_path, write_predictions
from objectives.score import main
from tests.objectives.test_score import run_main, write_gold

NAMES = ("no_relation", "org:founded", "per:title", "per:origin")


def _files(tmp_path: Path) -> tuple[Path, Path, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    gold = rng.integers(0, len(NAMES), size=24)
    ids = [f"d{i}" for i in range(24)]
    gold_path = write_gold(tmp_path / "dev.json", ids, [NAMES[g] for g in gold])
    logits = rng.normal(size=(24, len(NAMES)))
    logits[np.arange(24), gold] += 1.0
    probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    pred_path = tmp_path / "sub.csv"
    write_predictions(pred_path, ids, probs, LabelSet(NAMES))
    return gold_path, pred_path, gold, probs


def _labels_file(tmp_path: Path, names: tuple[str, ...]) -> Path:
    path = tmp_path / "labels.json"
    path.write_text(json.dumps(list(names)), encoding="utf-8")
    return path


def test_labels_in_another_order_are_refused_naming_the_row(tmp_path: Path) -> None:
    gold_path, pred_path, _, _ = _files(tmp_path)
    label_order_path(pred_path).unlink()  # as competition code writes it: the CSV alone
    shuffled = _labels_file(tmp_path, ("no_relation", "per:origin", "org:founded", "per:title"))
    with pytest.raises(UserError) as info:
        main(["--gold", str(gold_path), "--pred", str(pred_path), "--labels", str(shuffled)])
    message = str(info.value)
    assert "\n" not in message
    assert f"{pred_path}: row " in message and "(id d" in message
    assert "another label order" in message


def test_the_order_a_submission_carries_is_used(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    gold_path, pred_path, gold, probs = _files(tmp_path)
    shuffled = _labels_file(tmp_path, ("per:title", "no_relation", "per:origin", "org:founded"))
    argv = ["--gold", str(gold_path), "--pred", str(pred_path), "--labels", str(shuffled)]
    result = run_main(argv, capsys)
    labels = LabelSet(NAMES)
    assert result["auprc"] == pytest.approx(auprc(probs, gold, len(NAMES)))
    assert result["micro_f1"] == pytest.approx(micro_f1(probs.argmax(1), gold, labels))
    # and without --labels: the carried order is the label set (not KLUE's 30)
    again = run_main(["--gold", str(gold_path), "--pred", str(pred_path)], capsys)
    assert again == result


def test_a_carried_order_with_other_labels_than_labels_is_refused(tmp_path: Path) -> None:
    gold_path, pred_path, _, _ = _files(tmp_path)
    other = _labels_file(tmp_path, ("no_relation", "org:founded", "per:title", "per:religion"))
    with pytest.raises(UserError, match="labels differ from --labels"):
        main(["--gold", str(gold_path), "--pred", str(pred_path), "--labels", str(other)])


def test_pred_labels_that_agree_with_the_probs_pass_even_on_ties(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text('id,pred_label,probs\na,per:title,"[0.5, 0.0, 0.5, 0.0]"\n', encoding="utf-8")
    from objectives.data._predictions import read_predictions

    assert read_predictions(path, LabelSet(NAMES)).pred_ids.tolist() == [2]
