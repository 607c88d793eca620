"""What one trial does, without Optuna: data, encoding, models, the training loop,
losses and metrics; a trial gets plain hyperparameters and a ``report(step, metrics)`` callback.

``__all__`` is what users may import from here; the modules behind it are implementation.
"""

from common._exports import lazy_exports

_EXPORTS = {
    "HParams": "objectives._hparams",
    "RunSettings": "objectives._hparams",
    "read_config": "objectives._hparams",
    "fine_tune": "objectives.training._loop",
    "RunResult": "objectives.training._loop",
    "Report": "objectives.training._loop",
    "TrialData": "objectives.data._inputs",
    "load_trial_data": "objectives.data._inputs",
    "micro_f1": "objectives._metrics",
    "auprc": "objectives._metrics",
    "soft_vote": "objectives._metrics",
    "focal_loss": "objectives._loss",
    "FocalLoss": "objectives._loss",
    "resolve_model": "objectives.models._resolve",
}
__all__ = sorted(_EXPORTS)
__getattr__ = lazy_exports(__name__, _EXPORTS)
