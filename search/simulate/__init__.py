"""``python -m search.simulate``: search strategies replayed on a learning-curve table.

``__all__`` is what users may import from here; the modules behind it are implementation.
"""

from common.exports import lazy_exports

_EXPORTS = {
    "replay": "search.simulate.replay",
    "Budget": "search.simulate.replay",
    "Strategy": "search.simulate.strategies",
    "STRATEGIES": "search.simulate.strategies",
    "parse_strategies": "search.simulate.strategies",
    "Table": "search.simulate.table",
    "load_table": "search.simulate.table",
    "table_from_study": "search.simulate.table",
}
__all__ = sorted(_EXPORTS)
__getattr__ = lazy_exports(__name__, _EXPORTS)
