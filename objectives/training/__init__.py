"""Training: the loop, its result, the device, k-fold, a run's outputs.

``__all__`` is what users may import from here; the modules behind it are implementation.
"""

from common.exports import lazy_exports

_EXPORTS = {
    "fine_tune": "objectives.training.loop",
    "RunResult": "objectives.training.loop",
    "Report": "objectives.training.loop",
    "Workspace": "objectives.training.loop",
    "run_kfold": "objectives.training.kfold",
    "KFoldResult": "objectives.training.kfold",
    "evaluation_steps": "objectives.training.cadence",
}
__all__ = sorted(_EXPORTS)
__getattr__ = lazy_exports(__name__, _EXPORTS)
