"""What one trial does, without Optuna: data, encoding, models, the training loop,
losses and metrics; a trial gets plain hyperparameters and a ``report(step, metrics)`` callback.

``__all__`` is what users may import from here; the modules behind it are implementation.
"""

from common.exports import lazy_exports

_EXPORTS = {
    "HParams": "objectives.hparams",
    "RunSettings": "objectives.hparams",
    "read_config": "objectives.hparams",
    "fine_tune": "objectives.training.loop",
    "RunResult": "objectives.training.loop",
    "Report": "objectives.training.loop",
    "TrialData": "objectives.data.inputs",
    "load_trial_data": "objectives.data.inputs",
    "micro_f1": "objectives.metrics",
    "auprc": "objectives.metrics",
    "soft_vote": "objectives.metrics",
    "focal_loss": "objectives.loss",
    "FocalLoss": "objectives.loss",
    "resolve_model": "objectives.models.resolve",
}
__all__ = sorted(_EXPORTS)
__getattr__ = lazy_exports(__name__, _EXPORTS)
