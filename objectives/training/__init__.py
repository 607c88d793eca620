"""Training: the loop, its result, the device, k-fold, a run's outputs.

``__all__`` is what users may import from here; the modules behind it are implementation.
"""

from common._exports import lazy_exports

_EXPORTS = {
    "fine_tune": "objectives.training._loop",
    "RunResult": "objectives.training._loop",
    "Report": "objectives.training._loop",
    "Workspace": "objectives.training._loop",
    "run_kfold": "objectives.training._kfold",
    "KFoldResult": "objectives.training._kfold",
    "evaluation_steps": "objectives.training._cadence",
}
__all__ = sorted(_EXPORTS)
__getattr__ = lazy_exports(__name__, _EXPORTS)
