from objectives._hparams import HParams, RunSettings
from objectives.training._cadence import evaluation_steps
from objectives.training._loop import fine_tune
from tests.toy import toy_data


def test_per_epoch_is_every_share_of_an_epoch_and_the_last_step():
    assert evaluation_steps(25, 10, evals_per_epoch=4) == [
        2,
        4,
        6,
        8,
        10,
        12,
        14,
        16,
        18,
        20,
        22,
        24,
        25,
    ]
    assert evaluation_steps(30, 10, eval_steps=7) == [7, 14, 21, 28, 30]


def test_per_run_puts_the_kth_evaluation_at_the_same_fraction_of_every_run():
    for total in (10, 20, 30):
        steps = evaluation_steps(total, 10, evals_per_run=5)
        assert [s / total for s in steps] == [0.2, 0.4, 0.6, 0.8, 1.0]
    assert evaluation_steps(3, 10, evals_per_run=9) == [1, 2, 3]  # never more than the steps


def test_the_loop_evaluates_where_the_cadence_says(tmp_path):
    hp = HParams(learning_rate=2e-3, num_train_epochs=3, per_device_train_batch_size=16, max_len=32)
    steps = []
    result = fine_tune(
        hp,
        RunSettings(evals_per_run=3, cache_dir=tmp_path),
        toy_data(),
        lambda step, metrics: steps.append(step) or True,
    )
    assert steps == [10, 20, 30] and result.total_steps == 30
