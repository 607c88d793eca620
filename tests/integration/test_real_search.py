"""A small real search: the tiny model trained for real, end to end, through the CLI."""

import subprocess
import sys

import optuna
import pytest
from optuna.trial import TrialState

from objectives.data._sample_data import generate, write_sample
from search._attrs import trial_record, trial_run
from storage._opening import open_storage

pytestmark = pytest.mark.integration

SPACE = """
[learning_rate]
low = 5e-4
high = 3e-3
log = true

[num_train_epochs]
value = 1

[per_device_train_batch_size]
choices = [16, 32]

[max_len]
value = 64

[focal_gamma]
low = 0.0
high = 2.0

[pooling]
choices = ["cls", "entity_start"]
"""


def test_tiny_model_search_end_to_end(tmp_path):
    write_sample(tmp_path / "data", generate(seed=3, sizes={"train": 320, "dev": 96, "test": 96}))
    (tmp_path / "space.toml").write_text(SPACE)
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    proc = subprocess.run(
        [
            sys.executable, "-m", "search.run", "--trials", "4", "--storage", storage,
            "--study", "real", "--train", str(tmp_path / "data" / "train.csv"),
            "--dev", str(tmp_path / "data" / "dev.json"), "--space", str(tmp_path / "space.toml"),
            "--cache-dir", str(tmp_path / "cache"), "--evals-per-epoch", "2", "--seed", "0",
            "--quiet",
        ],
        capture_output=True, text=True, timeout=900, cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    study = optuna.load_study(study_name="real", storage=open_storage(storage))
    finished = [t for t in study.trials if t.state in (TrialState.COMPLETE, TrialState.PRUNED)]
    assert 4 <= len(finished) <= 5  # two workers may both start the last trial
    complete = [t for t in study.trials if t.state == TrialState.COMPLETE]
    assert complete and all(0 <= v <= 100 for t in complete for v in t.values)
    trial = complete[0]
    assert trial_run(trial)["timings_s"]["train"] > 0
    assert trial_run(trial)["memory"]["process_peak_rss_mb"] > 0
    assert len(trial.intermediate_values) >= 1
    assert "Pareto front" in proc.stdout
    # the dev predictions are stored, with one probability per KLUE label
    from optuna.artifacts import FileSystemArtifactStore, download_artifact

    store = FileSystemArtifactStore(str(tmp_path / "study-artifacts"))
    path = tmp_path / "preds.csv"
    download_artifact(
        artifact_store=store,
        artifact_id=trial_record(trial, "dev_predictions_artifact"),
        file_path=str(path),
    )
    lines = path.read_text().splitlines()
    assert lines[0] == "id,pred_label,probs" and len(lines) == 97
    assert lines[1].count(",") == 31  # id, label, and 30 probabilities inside the list
