"""Reading a study: curves, plots, hypotheses, summaries, voting.

``__all__`` is what users may import from here; the modules behind it are implementation.
"""

from common.exports import lazy_exports

_EXPORTS = {
    "publish_learning_curves": "search.analysis.curves",
    "check_hypothesis": "search.analysis.hypotheses",
    "print_summary": "search.analysis.summary",
    "greedy_select": "search.analysis.voting",
    "pareto_order": "search.analysis.voting",
}
__all__ = sorted(_EXPORTS)
__getattr__ = lazy_exports(__name__, _EXPORTS)
