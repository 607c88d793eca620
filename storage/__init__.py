"""Where studies live: storage URLs become Optuna storages here and nowhere else.

``__all__`` is what users may import from here; the modules behind it are implementation.
"""

from common.exports import lazy_exports

_EXPORTS = {
    "open_storage": "storage.opening",
    "check_storage": "storage.opening",
    "default_storage_url": "storage.urls",
    "mask_url": "storage.urls",
    "storage_kind": "storage.urls",
    "supports_heartbeat": "storage.urls",
    "artifact_dir_for": "storage.urls",
    "ArtifactStore": "storage.artifacts",
    "open_artifact_store": "storage.artifacts",
    "StorageUnavailable": "storage.retry",
    "StorageFull": "storage.retry",
    "RetryingRDBStorage": "storage.retry",
}
__all__ = sorted(_EXPORTS)
__getattr__ = lazy_exports(__name__, _EXPORTS)
