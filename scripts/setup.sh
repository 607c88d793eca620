#!/usr/bin/env bash
# Create .venv and install the project into it. Idempotent: a second run installs nothing new.
#   scripts/setup.sh          the service
#   scripts/setup.sh dev      the service and what the tests need
# torch comes first, so that the project's `torch>=2.4` is already satisfied and pip never pulls a
# second, multi-GB build. Its version is the one in deploy/constraints.txt (the tested torch, which
# the worker image installs too): from PyPI that is the CUDA build on Linux; on this project's
# machines it is a CPU wheel on local disk. Set TORCH_SPEC to choose another torch requirement and
# TORCH_INDEX_URL to take it from another wheel index (a CPU-only index elsewhere).
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$python" -m venv .venv
pip=(.venv/bin/python -m pip install --quiet --disable-pip-version-check)

if ! .venv/bin/python -c "import torch" 2>/dev/null; then
  spec=${TORCH_SPEC:-torch==$(sed -n 's/^torch==//p' deploy/constraints.txt)}
  echo "installing $spec" >&2
  if [ -n "${TORCH_INDEX_URL:-}" ]; then
    "${pip[@]}" --index-url "$TORCH_INDEX_URL" "$spec"
  else
    "${pip[@]}" "$spec"
  fi
fi

# The versions in deploy/constraints.txt (what the images install too); after an upgrade here,
# scripts/constraints.py writes them again from this environment.
if [ "${1:-}" = dev ]; then
  "${pip[@]}" -c deploy/constraints.txt -e ".[dev]"
else
  "${pip[@]}" -c deploy/constraints.txt -e ".[s3]"
fi
