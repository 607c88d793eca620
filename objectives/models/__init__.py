"""Models: classifier heads, the built-in tiny model, resolving and loading checkpoints, TAPT.

``__all__`` is what users may import from here; the modules behind it are implementation.
"""

from common.exports import lazy_exports

_EXPORTS = {
    "ModelName": "objectives.models.resolve",
    "parse_model": "objectives.models.resolve",
    "resolve_model": "objectives.models.resolve",
    "check_available": "objectives.models.resolve",
    "load_tokenizer": "objectives.models.loading",
    "load_model": "objectives.models.loading",
    "max_positions": "objectives.models.loading",
    "build_classifier": "objectives.models.heads",
    "ensure_tiny_model": "objectives.models.tiny",
    "TaptParams": "objectives.models.adapted",
    "ensure_tapt_model": "objectives.models.adapted",
}
__all__ = sorted(_EXPORTS)
__getattr__ = lazy_exports(__name__, _EXPORTS)
