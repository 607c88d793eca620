"""The service: a search's space, sampling, pruning and workers over an Optuna study; its
commands are ``python -m search.run`` (and ``.report``, ``.worker``, ``.simulate``, ...).

``__all__`` is what users may import from here; the modules behind it are implementation.
"""

from common._exports import lazy_exports

_EXPORTS = {
    "Space": "search._space",
    "load_space": "search._space",
    "make_sampler": "search._sampling",
    "suggest": "search._sampling",
    "Pruner": "search.pruning._pruner",
    "make_pruner": "search.pruning._pruner",
    "MOASHAPruner": "search.pruning._pruner",
    "run_worker": "search._work",
    "trial_record": "search._attrs",
    "trial_evals": "search._attrs",
}
__all__ = sorted(_EXPORTS)
__getattr__ = lazy_exports(__name__, _EXPORTS)
