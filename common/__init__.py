"""What every command shares: user errors and the CLI frame, files, versions.

``__all__`` is what users may import from here; the modules behind it are implementation.
"""

from common.exports import lazy_exports

_EXPORTS = {
    "UserError": "common.cli",
    "ArgumentParser": "common.cli",
    "run_main": "common.cli",
    "read_text": "common.files",
    "cache_root": "common.paths",
    "code_version": "common.versions",
    "package_versions": "common.versions",
}
__all__ = sorted(_EXPORTS)
__getattr__ = lazy_exports(__name__, _EXPORTS)
