"""Models: classifier heads, the built-in tiny model, resolving and loading checkpoints, TAPT.

``__all__`` is what users may import from here; the modules behind it are implementation.
"""

from common._exports import lazy_exports

_EXPORTS = {
    "ModelName": "objectives.models._resolve",
    "parse_model": "objectives.models._resolve",
    "resolve_model": "objectives.models._resolve",
    "check_available": "objectives.models._resolve",
    "load_tokenizer": "objectives.models._loading",
    "load_model": "objectives.models._loading",
    "max_positions": "objectives.models._loading",
    "build_classifier": "objectives.models._heads",
    "ensure_tiny_model": "objectives.models._tiny",
    "TaptParams": "objectives.models._adapted",
    "ensure_tapt_model": "objectives.models._adapted",
}
__all__ = sorted(_EXPORTS)
__getattr__ = lazy_exports(__name__, _EXPORTS)
