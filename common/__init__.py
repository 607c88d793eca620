"""What every command shares: user errors and the CLI frame, files, versions.

``__all__`` is what users may import from here; the modules behind it are implementation.
"""

from common._exports import lazy_exports

_EXPORTS = {
    "UserError": "common._cli",
    "ArgumentParser": "common._cli",
    "run_main": "common._cli",
    "read_text": "common._files",
    "cache_root": "common._paths",
    "code_version": "common._versions",
    "package_versions": "common._versions",
}
__all__ = sorted(_EXPORTS)
__getattr__ = lazy_exports(__name__, _EXPORTS)
