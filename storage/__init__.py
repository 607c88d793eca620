"""Where studies live: storage URLs become Optuna storages here and nowhere else.

``__all__`` is what users may import from here; the modules behind it are implementation.
"""

from common._exports import lazy_exports

_EXPORTS = {
    "open_storage": "storage._opening",
    "check_storage": "storage._opening",
    "default_storage_url": "storage._urls",
    "mask_url": "storage._urls",
    "storage_kind": "storage._urls",
    "supports_heartbeat": "storage._urls",
    "artifact_dir_for": "storage._urls",
    "ArtifactStore": "storage._artifacts",
    "open_artifact_store": "storage._artifacts",
    "StorageUnavailable": "storage._retry",
    "StorageFull": "storage._retry",
    "RetryingRDBStorage": "storage._retry",
}
__all__ = sorted(_EXPORTS)
__getattr__ = lazy_exports(__name__, _EXPORTS)
