"""Turning examples into model inputs: entity markers, features, batches.

``__all__`` is what users may import from here; the modules behind it are implementation.
"""

from common.exports import lazy_exports

_EXPORTS = {
    "special_tokens": "objectives.encoding.markers",
    "mark": "objectives.encoding.markers",
    "mark_example": "objectives.encoding.markers",
    "Marked": "objectives.encoding.markers",
    "Features": "objectives.encoding.features",
    "encode": "objectives.encoding.features",
    "FeatureCache": "objectives.encoding.features",
}
__all__ = sorted(_EXPORTS)
__getattr__ = lazy_exports(__name__, _EXPORTS)
