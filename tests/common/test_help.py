"""What a new user reads first: --help with defaults and choices, and the start of a run that
says which labels it uses."""

from __future__ import annotations

import pytest

import objectives.finetune as finetune
from objectives.data._inputs import describe_labels, load_trial_data
from objectives.describe import _parser as describe_parser
from objectives.score import _parser as score_parser
from search.ensemble import build_parser as ensemble_parser
from search.run import build_parser as run_parser
from tests.objectives.data.exports import KOREAN_DEV, KOREAN_TRAIN, records, write_jsonl
from tests.toy import write_toy_files


def _help(parser) -> str:
    return " ".join(parser.format_help().split())


def test_help_shows_defaults_and_explains_every_option():
    text = _help(run_parser())
    assert "finished trials this command adds to the study, whatever other launchers" in text
    assert "(8 launchers of --trials 3 add 24) (default: 40)" in " ".join(text.split())
    assert "--dev DEV labeled data each trial is scored on" in text
    assert "(default: inferred from --train" in text
    assert "(default: None)" not in text
    finetune_text = _help(finetune.build_parser())
    assert "--learning_rate LEARNING_RATE peak learning rate" in finetune_text
    assert "(built-in: 5e-05)" in finetune_text
    assert "--dev DEV labeled data" in finetune_text
    assert "(default: typed_punct)" in _help(describe_parser())
    assert "--no-relation NO_RELATION" in _help(score_parser())


def test_ensemble_rankings_and_metrics_are_declared_choices(capsys):
    text = _help(ensemble_parser())
    assert "--by {pareto,f1,auprc}" in text and "--metric {f1,auprc}" in text
    with pytest.raises(SystemExit) as exited:
        ensemble_parser().parse_args(["--study", "s", "--out", "o", "--by", "loss"])
    assert exited.value.code == 2
    assert "invalid choice: 'loss'" in capsys.readouterr().err


def test_a_run_names_its_label_set_and_no_relation_label(tmp_path):
    train, dev = write_toy_files(tmp_path)
    line = describe_labels(load_trial_data(train, dev), None)
    assert line.startswith("labels: 30 (KLUE's 30 in their order, inferred from --train)")
    assert line.endswith("no-relation label: no_relation")
    train = write_jsonl(tmp_path / "ko.jsonl", records(KOREAN_TRAIN))
    dev = write_jsonl(tmp_path / "ko-dev.jsonl", records(KOREAN_DEV, "d"))
    line = describe_labels(load_trial_data(train, dev, no_relation="관계없음"), None)
    assert line == (
        "labels: 4 (inferred from --train): 관계없음, 단체:본사, 인물:소속, 인물:출신; "
        "no-relation label: 관계없음"
    )


class _Stop(Exception):
    pass


def test_finetune_with_the_tiny_model_says_its_default_rate_is_a_pretrained_ones(
    tmp_path, monkeypatch, capsys
):
    def stop(*args, **kwargs):
        raise _Stop

    monkeypatch.setattr(finetune, "fine_tune", stop)
    train, dev = write_toy_files(tmp_path)
    argv = ["--train", str(train), "--dev", str(dev), "--out", str(tmp_path / "o")]
    with pytest.raises(_Stop):
        finetune.main(argv)
    err = capsys.readouterr().err  # a warning: shown at the default log level
    assert "WARNING objectives.finetune: learning_rate 5e-05 suits a pretrained encoder" in err
    with pytest.raises(_Stop):
        finetune.main([*argv, "--learning_rate", "3e-3"])
    assert "suits a pretrained encoder" not in capsys.readouterr().err
