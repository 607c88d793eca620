"""Relation-extraction data: reading, labels, the built-in sample, augmentation, predictions.

``__all__`` is what users may import from here; the modules behind it are implementation.
"""

from common.exports import lazy_exports

_EXPORTS = {
    "Dataset": "objectives.data.dataset",
    "read_dataset": "objectives.data.dataset",
    "Example": "objectives.data.examples",
    "Entity": "objectives.data.examples",
    "LabelSet": "objectives.data.labels",
    "klue_labels": "objectives.data.labels",
    "read_label_file": "objectives.data.labels",
    "TrialData": "objectives.data.inputs",
    "load_trial_data": "objectives.data.inputs",
    "ensure_sample_data": "objectives.data.sample_data",
    "generate": "objectives.data.sample_data",
}
__all__ = sorted(_EXPORTS)
__getattr__ = lazy_exports(__name__, _EXPORTS)
