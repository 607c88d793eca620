"""Relation-extraction data: reading, labels, the built-in sample, augmentation, predictions.

``__all__`` is what users may import from here; the modules behind it are implementation.
"""

from common._exports import lazy_exports

_EXPORTS = {
    "Dataset": "objectives.data._dataset",
    "read_dataset": "objectives.data._dataset",
    "Example": "objectives.data._examples",
    "Entity": "objectives.data._examples",
    "LabelSet": "objectives.data._labels",
    "klue_labels": "objectives.data._labels",
    "read_label_file": "objectives.data._labels",
    "TrialData": "objectives.data._inputs",
    "load_trial_data": "objectives.data._inputs",
    "ensure_sample_data": "objectives.data._sample_data",
    "generate": "objectives.data._sample_data",
}
__all__ = sorted(_EXPORTS)
__getattr__ = lazy_exports(__name__, _EXPORTS)
