"""How a trial is stopped early: pure MO-ASHA, the pruners a worker asks, where evaluations live.

``__all__`` is what users may import from here; the modules behind it are implementation.
"""

from common._exports import lazy_exports

_EXPORTS = {
    "Pruner": "search.pruning._pruner",
    "MOASHAPruner": "search.pruning._pruner",
    "OptunaPruner": "search.pruning._pruner",
    "NoPruner": "search.pruning._pruner",
    "make_pruner": "search.pruning._pruner",
    "optuna_pruner": "search.pruning._pruner",
    "PRUNERS": "search.pruning._pruner",
    "Decision": "search.pruning._moasha",
    "decide": "search.pruning._moasha",
    "nondominated_ranks": "search.pruning._moasha",
    "add_evaluation": "search.pruning._evaluations",
    "evals_of": "search.pruning._evaluations",
    "Standing": "search.pruning._why",
}
__all__ = sorted(_EXPORTS)
__getattr__ = lazy_exports(__name__, _EXPORTS)
