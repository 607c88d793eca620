"""The service: a search's space, sampling, pruning and workers over an Optuna study; its
commands are ``python -m search.run`` (and ``.report``, ``.worker``, ``.simulate``, ...).

``__all__`` is what users may import from here; the modules behind it are implementation.
"""

from common.exports import lazy_exports

_EXPORTS = {
    "Space": "search.space",
    "load_space": "search.space",
    "make_sampler": "search.sampling",
    "suggest": "search.sampling",
    "Pruner": "search.pruning.pruner",
    "make_pruner": "search.pruning.pruner",
    "MOASHAPruner": "search.pruning.pruner",
    "run_worker": "search.worker",
    "trial_record": "search.attrs",
    "trial_evals": "search.attrs",
}
__all__ = sorted(_EXPORTS)
__getattr__ = lazy_exports(__name__, _EXPORTS)
