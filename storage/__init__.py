"""Where studies live: storage URLs become Optuna storages here and nowhere else."""

from storage.opening import open_storage
from storage.urls import (
    artifact_dir_for,
    default_storage_url,
    mask_url,
    storage_kind,
    supports_heartbeat,
)

__all__ = [
    "artifact_dir_for",
    "default_storage_url",
    "mask_url",
    "open_storage",
    "storage_kind",
    "supports_heartbeat",
]
