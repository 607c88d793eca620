import json
import subprocess
import sys

import pytest

from common._cli import UserError
from objectives.finetune import main
from tests.toy import toy_data


def write_toy(tmp_path):
    data = toy_data(train=96, dev=32)
    paths = {}
    for name, ds in (("train", data.train), ("dev", data.dev)):
        rows = [
            {
                "guid": ex.id,
                "sentence": ex.sentence,
                "subject_entity": vars(ex.subject) | {"start_idx": ex.subject.start},
                "object_entity": vars(ex.object) | {"start_idx": ex.object.start},
                "label": ex.label,
            }
            for ex in ds.examples
        ]
        for row in rows:
            for key in ("subject_entity", "object_entity"):
                entity = row[key]
                row[key] = {
                    "word": entity["word"],
                    "start_idx": entity["start"],
                    "end_idx": entity["end"],
                    "type": entity["type"],
                }
        paths[name] = tmp_path / f"{name}.json"
        paths[name].write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
    return paths


@pytest.mark.slow
def test_one_run_writes_its_outputs(tmp_path, capsys):
    paths = write_toy(tmp_path)
    config = tmp_path / "best.json"
    config.write_text(json.dumps({"hparams": {"learning_rate": 2e-3, "max_len": 32}}))
    out = tmp_path / "out"
    code = main(
        [
            "--train", str(paths["train"]), "--dev", str(paths["dev"]),
            "--test", str(paths["dev"]), "--config", str(config),
            "--num_train_epochs", "2", "--per_device_train_batch_size", "16",
            "--eval_steps", "4", "--no_progress", "--out", str(out), "--save_checkpoint",
        ]
    )  # fmt: skip
    assert code == 0
    run = json.loads((out / "run.json").read_text())
    assert run["hparams"]["learning_rate"] == 2e-3  # from the config file
    assert run["hparams"]["num_train_epochs"] == 2.0  # the flag wins
    assert run["result"]["steps"] == 12
    assert [e["step"] for e in run["result"]["evaluations"]] == [4, 8, 12]
    assert set(run["timings_s"]) >= {"tokenize", "train", "eval", "startup"}
    assert run["memory"]["process_peak_rss_mb"] > 0
    assert run["packages"]["torch"]
    dev_lines = (out / "dev_predictions.csv").read_text().splitlines()
    assert dev_lines[0] == "id,pred_label,probs" and len(dev_lines) == 33
    assert (out / "test_predictions.csv").exists()
    from transformers import AutoModelForSequenceClassification

    best = AutoModelForSequenceClassification.from_pretrained(out / "checkpoint")
    assert best.config.id2label[18] == "per:employee_of"
    assert run["result"]["checkpoint"] == str(out / "checkpoint")
    printed = json.loads(capsys.readouterr().out.split("\noutputs:")[0])
    assert printed["status"] == "complete"


@pytest.mark.parametrize(
    ("flags", "named"),
    [
        (["--learning_rate", "0"], "--learning_rate"),
        (["--learning_rate=-1e-5"], "--learning_rate"),
        (["--learning_rate", "-1e-5"], "--learning_rate"),
        (["--warmup_ratio", "1.0"], "--warmup_ratio"),
        (["--per_device_train_batch_size", "0"], "--per_device_train_batch_size"),
        (["--markers", "brackets"], "--markers"),
        (["--pooling", "mean"], "--pooling"),
    ],
)
def test_bad_values_are_rejected_before_training(tmp_path, flags, named, monkeypatch):
    paths = write_toy(tmp_path)
    out = tmp_path / "out"
    monkeypatch.setattr("objectives.finetune.fine_tune", _must_not_train)
    argv = ["--train", str(paths["train"]), "--dev", str(paths["dev"]), "--out", str(out)]
    with pytest.raises((UserError, SystemExit)) as info:
        main([*argv, *flags])
    if isinstance(info.value, SystemExit):
        assert info.value.code == 2
    else:
        assert named in str(info.value) and "\n" not in str(info.value)
    assert not out.exists()


def _must_not_train(*args, **kwargs):
    raise AssertionError("training started")


def test_the_process_prints_one_line_and_exits_2(tmp_path):
    paths = write_toy(tmp_path)
    proc = subprocess.run(
        [sys.executable, "-m", "objectives.finetune", "--train", str(paths["train"]),
         "--dev", str(paths["dev"]), "--out", str(tmp_path / "o"), "--warmup_ratio", "1.5"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == ["error: --warmup_ratio: must be in [0, 1), got 1.5"]


def test_unknown_config_key_names_the_file(tmp_path):
    config = tmp_path / "c.json"
    config.write_text('{"learning_rat": 1e-4}')
    with pytest.raises(UserError, match="learning_rat"):
        main(["--config", str(config), "--out", str(tmp_path / "o")])


def test_max_len_beyond_the_model_is_rejected_before_training(tmp_path, monkeypatch):
    from objectives._hparams import HParams, RunSettings
    from objectives.training._loop import fine_tune

    monkeypatch.setattr("objectives.training._loop.build_classifier", _must_not_train)
    with pytest.raises(UserError, match="--max_len: 100000 is beyond what tiny takes"):
        fine_tune(HParams(max_len=100000), RunSettings(), toy_data())
