import math
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import torch

import objectives.training._loop as train_module
from objectives._hparams import HParams, RunSettings
from objectives.training._loop import Workspace, fine_tune
from tests.toy import toy_data

FAST = dict(learning_rate=2e-3, num_train_epochs=3, per_device_train_batch_size=16, max_len=32)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    return Workspace(tmp_path_factory.mktemp("ws"))


@pytest.mark.slow
def test_learns_and_reports_every_evaluation(workspace):
    calls = []
    data = toy_data()
    result = fine_tune(
        HParams(**FAST),
        RunSettings(eval_steps=5),
        data,
        lambda step, metrics: calls.append((step, metrics)) or True,
        workspace,
    )
    assert result.status == "complete"
    assert result.total_steps == 30 and result.steps == 30
    assert [step for step, _ in calls] == [5, 10, 15, 20, 25, 30]
    assert set(calls[0][1]) == {"micro_f1", "auprc", "accuracy", "loss"}
    majority = max(np.mean([ex.label == "no_relation" for ex in data.dev.examples]), 0.5) * 100
    assert result.metrics["accuracy"] > majority + 20
    assert result.dev_logits.shape == (len(data.dev), 30)
    assert result.best_step in [step for step, _ in calls]
    assert result.timings["train"] > 0 and result.timings["eval"] > 0
    # each evaluation's cost so far: train examples stepped over (16 a step) and wall seconds
    costs = [(e["seconds"], e["examples"]) for e in result.evaluations]
    assert [examples for _, examples in costs] == [step * 16 for step, _ in calls]
    seconds = [s for s, _ in costs]
    assert seconds == sorted(seconds) and seconds[0] > 0


@pytest.mark.slow
def test_stops_when_report_says_so(workspace):
    result = fine_tune(
        HParams(**FAST), RunSettings(eval_steps=4), toy_data(), lambda s, m: s < 8, workspace
    )
    assert result.status == "stopped"
    assert result.steps == 8
    assert "step 8" in result.reason


@pytest.mark.slow
def test_the_searchs_time_at_each_evaluation_is_not_counted_as_training(workspace):
    def slow_report(step, metrics):
        time.sleep(0.2)
        return True

    started = time.perf_counter()
    result = fine_tune(
        HParams(**{**FAST, "num_train_epochs": 1}),
        RunSettings(eval_steps=5),
        toy_data(),
        slow_report,
        workspace,
    )
    wall = time.perf_counter() - started
    assert result.timings["report"] >= 2 * 0.2  # two evaluations
    assert result.timings["train"] + result.timings["eval"] + result.timings["report"] <= wall
    assert result.timings["train"] < wall - 0.4


@pytest.mark.slow
def test_second_trial_reuses_tokenized_data(workspace):
    before = dict(workspace.features.hits)
    fine_tune(HParams(**FAST, seed=3), RunSettings(eval_steps=100), toy_data(), None, workspace)
    assert workspace.features.hits["built"] == before["built"]
    assert workspace.features.hits["memory"] > before["memory"]


@pytest.mark.slow
def test_entity_start_pooling_trains(workspace):
    hp = HParams(**{**FAST, "num_train_epochs": 1}, pooling="entity_start", markers="entity")
    result = fine_tune(hp, RunSettings(eval_steps=10), toy_data(), None, workspace)
    assert result.status == "complete" and math.isfinite(result.metrics["loss"])


@pytest.mark.slow
def test_non_finite_loss_stops_the_trial_with_a_reason(workspace, monkeypatch):
    def nan_loss(logits, labels, **kwargs):
        return (logits * float("nan")).sum()

    monkeypatch.setattr(train_module, "focal_loss", nan_loss)
    result = fine_tune(HParams(**FAST), RunSettings(eval_steps=5), toy_data(), None, workspace)
    assert result.status == "diverged"
    assert result.steps == 1 and "non-finite" in result.reason


@pytest.mark.slow
def test_out_of_memory_halves_the_micro_batch_and_keeps_the_batch(workspace, monkeypatch):
    real = train_module.collate
    sizes = []

    def collate_that_ooms_above_4(features, indices, *args, **kwargs):
        sizes.append(len(indices))
        if len(indices) > 4:
            raise torch.OutOfMemoryError("simulated")
        return real(features, indices, *args, **kwargs)

    monkeypatch.setattr(train_module, "collate", collate_that_ooms_above_4)
    hp = HParams(**{**FAST, "num_train_epochs": 1})
    settings = RunSettings(eval_steps=1000, eval_batch_size=4)
    result = fine_tune(hp, settings, toy_data(), None, workspace)
    assert result.status == "complete"
    assert result.micro_batch_size == 4
    assert sizes[:3] == [16, 8, 4]  # halved twice, then the step ran in micro-batches of 4


def test_gradient_accumulation_matches_one_big_batch(workspace):
    """The same effective batch gives the same update, however it is split."""

    def one_step(micro):
        data = toy_data()
        hp = HParams(**{**FAST, "num_train_epochs": 1}, seed=7)
        settings = RunSettings(eval_steps=1000, max_micro_batch_size=micro)
        loop = _loop(hp, settings, data, workspace)
        for module in loop.model.modules():
            if isinstance(module, torch.nn.Dropout):
                module.p = 0.0
        loop._step(np.arange(16))
        return {k: v.detach().clone() for k, v in loop.model.state_dict().items()}

    whole, split = one_step(None), one_step(4)
    for name in whole:
        torch.testing.assert_close(whole[name], split[name], rtol=1e-4, atol=1e-6)


def _loop(hp, settings, data, workspace):
    from objectives.encoding._markers import special_tokens
    from objectives.models._heads import build_classifier
    from objectives.models._loading import load_tokenizer
    from objectives.training._accelerator import new_accelerator

    path = workspace.model_path(settings.model, data)
    tokenizer = load_tokenizer(path, special_tokens(hp.markers))
    features = workspace.features.get(data.train, tokenizer, hp.markers, hp.max_len, data.labels)
    accelerator = new_accelerator(settings)
    train_module.set_seed(hp.seed)
    model = build_classifier(path, data.labels, hp.pooling, tokenizer)
    return train_module._Loop(
        hp, settings, accelerator, model, tokenizer.pad_token_id, features, data.labels
    )


@pytest.mark.slow
def test_predicts_test_set_with_the_best_evaluation(workspace):
    data = toy_data(test=True)
    result = fine_tune(HParams(**FAST), RunSettings(eval_steps=10), data, None, workspace)
    assert result.test_logits.shape == (len(data.test), 30)
    # the test set here is the dev set: predictions from the best step equal its dev logits
    np.testing.assert_allclose(result.test_logits, result.dev_logits, rtol=1e-4, atol=1e-4)


@pytest.mark.slow
def test_bf16_on_cpu_runs(workspace):
    hp = HParams(**{**FAST, "num_train_epochs": 1})
    result = fine_tune(
        hp, RunSettings(precision="bf16", eval_steps=10), toy_data(), None, workspace
    )
    assert result.status == "complete" and math.isfinite(result.metrics["loss"])


def test_prepare_does_a_workers_one_time_set_up_before_any_trial(workspace):
    """The model's modeling code is imported and its tokenizers are loaded by ``prepare``, so
    that a worker's first trial does not pay them."""
    script = textwrap.dedent(
        f"""
        import sys
        from pathlib import Path
        from objectives.training._loop import Workspace
        from tests.toy import toy_data
        workspace = Workspace(Path({str(workspace.cache_dir)!r}))
        assert "transformers.models.bert.modeling_bert" not in sys.modules
        path = workspace.prepare("tiny", toy_data(), ["entity", "typed_punct"])
        assert "transformers.models.bert.modeling_bert" in sys.modules
        assert sorted(markers for _, markers in workspace._tokenizers) == ["entity", "typed_punct"]
        print(path)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert Path(done.stdout.strip()).is_dir()
