#!/usr/bin/env bash
# Set up (scripts/setup.sh dev) and run every test: unit tests with a mocked objective, and the
# integration tests against the real Postgres and Redis on 127.0.0.1 (see .ci/run for starting them).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh dev
export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
exec .venv/bin/python -m pytest "$@"
