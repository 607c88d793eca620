"""Turning examples into model inputs: entity markers, features, batches.

``__all__`` is what users may import from here; the modules behind it are implementation.
"""

from common._exports import lazy_exports

_EXPORTS = {
    "special_tokens": "objectives.encoding._markers",
    "mark": "objectives.encoding._markers",
    "mark_example": "objectives.encoding._markers",
    "Marked": "objectives.encoding._markers",
    "Features": "objectives.encoding._features",
    "encode": "objectives.encoding._features",
    "FeatureCache": "objectives.encoding._features",
}
__all__ = sorted(_EXPORTS)
__getattr__ = lazy_exports(__name__, _EXPORTS)
