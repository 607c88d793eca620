"""``python -m search.simulate``: search strategies replayed on a learning-curve table.

``__all__`` is what users may import from here; the modules behind it are implementation.
"""

from common._exports import lazy_exports

_EXPORTS = {
    "replay": "search.simulate._replay",
    "Budget": "search.simulate._replay",
    "Strategy": "search.simulate._strategies",
    "STRATEGIES": "search.simulate._strategies",
    "parse_strategies": "search.simulate._strategies",
    "Table": "search.simulate._table",
    "load_table": "search.simulate._table",
    "table_from_study": "search.simulate._table",
}
__all__ = sorted(_EXPORTS)
__getattr__ = lazy_exports(__name__, _EXPORTS)
