"""The score CLI: metrics over gold and prediction files, and one-line errors for mismatched ids."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from common._cli import UserError
from objectives._metrics import accuracy, auprc, micro_f1
from objectives.data._labels import KLUE_RELATIONS, LabelSet, klue_labels
from objectives.data._predictions import label_order_path, write_predictions
from objectives.score import main

REPO = Path(__file__).resolve().parents[2]
SENTENCE = "이순신은 조선 중기의 무신이다."


def gold_record(example_id: str, label: str) -> dict[str, object]:
    return {
        "guid": example_id,
        "sentence": SENTENCE,
        "subject_entity": {"word": "이순신", "start_idx": 0, "end_idx": 2, "type": "PER"},
        "object_entity": {"word": "무신", "start_idx": 13, "end_idx": 14, "type": "POH"},
        "label": label,
        "source": "wikipedia",
    }


def write_gold(path: Path, ids: list[str], labels: list[str]) -> Path:
    records = [gold_record(i, label) for i, label in zip(ids, labels, strict=True)]
    path.write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
    return path


def random_probs(rng: np.random.Generator, gold: np.ndarray, k: int) -> np.ndarray:
    logits = rng.normal(size=(len(gold), k))
    logits[np.arange(len(gold)), gold] += 1.5
    return np.exp(logits) / np.exp(logits).sum(1, keepdims=True)


def run_main(argv: list[str], capsys: pytest.CaptureFixture[str]) -> dict[str, float]:
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    return json.loads(out)


def test_scores_match_metrics_computed_directly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rng = np.random.default_rng(0)
    labels = klue_labels()
    gold = rng.choice([0, 0, 0, 1, 2, 5, 18, 29], size=40)
    ids = [f"dev-{i:03d}" for i in range(40)]
    gold_path = write_gold(tmp_path / "dev.json", ids, [KLUE_RELATIONS[g] for g in gold])
    probs = random_probs(rng, gold, 30)
    order = rng.permutation(40)  # the submission may list examples in any order
    pred_path = tmp_path / "sub.csv"
    write_predictions(pred_path, [ids[i] for i in order], probs[order], labels)

    result = run_main(["--gold", str(gold_path), "--pred", str(pred_path)], capsys)

    preds = probs.argmax(1)
    assert result == {
        "micro_f1": pytest.approx(micro_f1(preds, gold, labels)),
        "auprc": pytest.approx(auprc(probs, gold, 30)),
        "accuracy": pytest.approx(accuracy(preds, gold)),
        "n": 40,
    }
    assert 0 < result["micro_f1"] < 100


def test_custom_label_file_and_no_relation_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    names = ["rel:a", "NONE", "rel:b"]
    (tmp_path / "labels.txt").write_text("\n".join(names) + "\n", encoding="utf-8")
    labels = LabelSet(tuple(names), "NONE")
    gold = np.array([0, 1, 2, 1, 0, 2])
    ids = [str(i) for i in range(6)]
    gold_path = write_gold(tmp_path / "gold.json", ids, [names[g] for g in gold])
    # Argmax predictions [0, 0, 2, 1, 1, 1]: micro-F1 4/7 without "NONE" (hand-counted in
    # test_metrics), accuracy 1/2.
    probs = np.full((6, 3), 0.1)
    probs[np.arange(6), [0, 0, 2, 1, 1, 1]] = 0.8
    pred_path = tmp_path / "sub.csv"
    write_predictions(pred_path, ids, probs, labels)

    argv = ["--gold", str(gold_path), "--pred", str(pred_path), "--labels"]
    argv += [str(tmp_path / "labels.txt"), "--no-relation", "NONE"]
    result = run_main(argv, capsys)

    assert result["micro_f1"] == pytest.approx(100 * 4 / 7)
    assert result["accuracy"] == pytest.approx(50.0)
    assert result["auprc"] == pytest.approx(auprc(probs, gold, 3))
    assert result["n"] == 6


@pytest.mark.parametrize(
    ("pred_ids", "expected"),
    [
        (["a", "b"], "1 gold id(s) have no prediction (first: 'c')"),
        (["a", "b", "c", "zz"], "1 predicted id(s) are not in the gold file (first: 'zz')"),
        (["a", "b", "x"], "(first: 'c'); 1 predicted id(s) are not in the gold file (first: 'x')"),
    ],
)
def test_id_mismatch_is_a_user_error(tmp_path: Path, pred_ids: list[str], expected: str) -> None:
    gold_path = write_gold(tmp_path / "dev.json", ["a", "b", "c"], ["no_relation"] * 3)
    pred_path = tmp_path / "sub.csv"
    write_predictions(pred_path, pred_ids, np.full((len(pred_ids), 30), 1 / 30), klue_labels())
    with pytest.raises(UserError, match="ids do not match") as info:
        main(["--gold", str(gold_path), "--pred", str(pred_path)])
    assert expected in str(info.value)


def test_a_prediction_label_outside_the_label_file_is_a_user_error(tmp_path: Path) -> None:
    gold_path = write_gold(tmp_path / "dev.json", ["a"], ["no_relation"])
    pred_path = tmp_path / "sub.csv"
    write_predictions(pred_path, ["a"], np.eye(30)[[5]], klue_labels())
    label_order_path(pred_path).unlink()  # competition code writes the CSV alone
    (tmp_path / "labels.json").write_text('["no_relation", "per:title"]', encoding="utf-8")
    argv = ["--gold", str(gold_path), "--pred", str(pred_path)]
    with pytest.raises(UserError, match="row 1: pred_label: 'org:member_of' is not a known"):
        main([*argv, "--labels", str(tmp_path / "labels.json")])


def test_cli_exits_2_with_one_line_for_an_id_mismatch(tmp_path: Path) -> None:
    gold_path = write_gold(tmp_path / "dev.json", ["a", "b"], ["no_relation", "per:title"])
    pred_path = tmp_path / "sub.csv"
    write_predictions(pred_path, ["a", "c"], np.full((2, 30), 1 / 30), klue_labels())
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    argv = ["--gold", str(gold_path), "--pred", str(pred_path)]
    done = subprocess.run(
        [sys.executable, "-m", "objectives.score", *argv],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"error: {pred_path}: ids do not match {gold_path}")
    assert "'b'" in lines[0]
    assert "'c'" in lines[0]
