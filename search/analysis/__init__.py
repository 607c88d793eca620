"""Reading a study: curves, plots, hypotheses, summaries, voting.

``__all__`` is what users may import from here; the modules behind it are implementation.
"""

from common._exports import lazy_exports

_EXPORTS = {
    "publish_learning_curves": "search.analysis._curves",
    "check_hypothesis": "search.analysis._hypotheses",
    "print_summary": "search.analysis._summary",
    "greedy_select": "search.analysis._voting",
    "pareto_order": "search.analysis._voting",
}
__all__ = sorted(_EXPORTS)
__getattr__ = lazy_exports(__name__, _EXPORTS)
