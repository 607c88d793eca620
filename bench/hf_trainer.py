"""transformers' ``Trainer`` as the benchmarks set it up: on CPU, nothing saved, logged or printed.

Only the benchmarks that race a ``Trainer`` import this (``harness`` stays free of transformers).
"""

from __future__ import annotations

from typing import Any

from accelerate.state import AcceleratorState, GradientState
from transformers import Trainer, TrainingArguments
from transformers.trainer_callback import PrinterCallback


def fresh_accelerate_state() -> None:
    """Trainer builds its own Accelerator; the last fine_tune's singletons must not leak into it.

    Call it before the model and the ``TrainingArguments`` are built.
    """
    AcceleratorState._reset_state(reset_partial_state=True)
    GradientState._reset_state()


def cpu_training_args(output_dir: str, seed: int, **run: Any) -> TrainingArguments:
    """``TrainingArguments`` for a measured CPU run: no checkpoints, logs, reporters, progress bar
    or data-loader processes; ``run`` holds the run's own (batch, steps, sampling, evaluation)."""
    return TrainingArguments(
        output_dir=output_dir,
        save_strategy="no",
        logging_strategy="no",
        report_to=[],
        disable_tqdm=True,
        dataloader_num_workers=0,
        use_cpu=True,
        seed=seed,
        **run,
    )


def quiet_trainer(**kwargs: Any) -> Trainer:
    """``Trainer(**kwargs)`` without its PrinterCallback, which prints a metrics dict after each
    evaluation and at the end of training."""
    trainer = Trainer(**kwargs)
    trainer.remove_callback(PrinterCallback)
    return trainer
