#!/usr/bin/env bash
# Set up (scripts/setup.sh) and run the main job on the embedded default: a 40-trial search on the
# built-in sample data with the built-in tiny model, stored in ./searches.db. Extra flags go to
# search.run, e.g. scripts/demo.sh --trials 10.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export TOKENIZERS_PARALLELISM=false
exec .venv/bin/python -m search.run --trials 40 "$@"
