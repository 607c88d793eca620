"""How a trial is stopped early: pure MO-ASHA, the pruners a worker asks, where evaluations live.

``__all__`` is what users may import from here; the modules behind it are implementation.
"""

from common.exports import lazy_exports

_EXPORTS = {
    "Pruner": "search.pruning.pruner",
    "MOASHAPruner": "search.pruning.pruner",
    "OptunaPruner": "search.pruning.pruner",
    "NoPruner": "search.pruning.pruner",
    "make_pruner": "search.pruning.pruner",
    "optuna_pruner": "search.pruning.pruner",
    "PRUNERS": "search.pruning.pruner",
    "Decision": "search.pruning.moasha",
    "decide": "search.pruning.moasha",
    "nondominated_ranks": "search.pruning.moasha",
    "add_evaluation": "search.pruning.evaluations",
    "evals_of": "search.pruning.evaluations",
    "Standing": "search.pruning.why",
}
__all__ = sorted(_EXPORTS)
__getattr__ = lazy_exports(__name__, _EXPORTS)
