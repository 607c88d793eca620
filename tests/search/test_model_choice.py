"""Models as a choice: a short real search over the tiny model and its TAPT variant."""

import optuna
import pytest
from optuna.trial import TrialState

from common._cli import run_main as run_cli
from search.report import main as report_main
from search.run import main as run_main
from storage._opening import open_storage
from tests.toy import write_toy_files

SPACE = """
[model]
choices = ["tiny", "tiny+tapt"]

[learning_rate]
low = 1e-3
high = 3e-3
log = true

[learning_rate.by_model]
"tiny+tapt" = { low = 5e-4, high = 1e-3 }

[num_train_epochs]
value = 1

[max_len]
value = 32

[per_device_train_batch_size]
value = 32
"""


def test_search_over_tiny_and_tiny_tapt_compares_both(tmp_path, capsys):
    # the data of tests/objectives/test_tapt.py: its tiny+tapt is reused when that ran first
    train, dev = write_toy_files(tmp_path / "data", train=96, dev=32)
    (tmp_path / "space.toml").write_text(SPACE)
    storage = f"sqlite:///{tmp_path / 's.db'}"
    flags = ["--trials", "3", "--storage", storage, "--study", "models", "--train", str(train),
             "--dev", str(dev), "--space", str(tmp_path / "space.toml"), "--workers", "1",
             "--pruner", "none", "--evals-per-epoch", "1", "--sampler", "random", "--seed", "0",
             "--artifacts", str(tmp_path / "artifacts"), "--quiet"]  # fmt: skip
    assert run_main(flags) == 0
    study = optuna.load_study(study_name="models", storage=open_storage(storage))
    complete = [t for t in study.trials if t.state == TrialState.COMPLETE]
    assert len(complete) == 3
    by_model = {t.params["model"] for t in complete}
    assert by_model == {"tiny", "tiny+tapt"}
    for t in complete:
        low, high = (5e-4, 1e-3) if t.params["model"] == "tiny+tapt" else (1e-3, 3e-3)
        assert low <= t.params["learning_rate"] <= high
        assert t.user_attrs["model"] == t.params["model"]
    assert complete[0].user_attrs.get("origin") == "KLUE paper recipe"
    capsys.readouterr()
    out = tmp_path / "report"
    code = report_main(["--storage", storage, "--study", "models", "--out", str(out), "--no-png"])
    assert code == 0
    text = (out / "report.md").read_text()
    pareto = text.split("## Pareto front")[1].split("##")[0]
    assert "| model |" in pareto and ("| tiny |" in pareto or "| tiny+tapt |" in pareto)
    per_model = text.split("## Best trial per model")[1].split("##")[0]
    assert "- `tiny`:" in per_model and "- `tiny+tapt`:" in per_model


def test_malformed_tapt_model_is_refused_before_any_study(tmp_path, capsys):
    storage = tmp_path / "s.db"
    with pytest.raises(SystemExit) as info:
        run_cli(run_main, ["--model", "+tapt", "--storage", f"sqlite:///{storage}", "--quiet"])
    assert info.value.code == 2 and "'+tapt' must follow a model name" in capsys.readouterr().err
    assert not storage.exists()
