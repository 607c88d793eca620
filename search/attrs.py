"""Names of the trial attributes that the search writes and its other commands read.

A light module (no torch): ``search.ensemble``, ``search.final`` and ``search.report`` read
these without importing the objective that writes them.
"""

# what a run ended with: status, steps, total_steps, best_step, metrics, timings_s, memory,
# truncated_entities (entities cut by max_len) and examples (train with augmented copies, dev)
RUN_ATTR = "run"
# artifact ids of the dev and test predictions (submission CSV with class probabilities)
PREDICTIONS_ATTR = "dev_predictions_artifact"
TEST_PREDICTIONS_ATTR = "test_predictions_artifact"
from storage.liveness import WORKER_DIED  # noqa: E402  (one definition, where it is written)

# where a trial's parameters came from; the KLUE recipe (trial 0) is marked so
ORIGIN_ATTR = "origin"
RECIPE_ORIGIN = "KLUE paper recipe"
# why a trial failed (``fail_reason``): these beginnings name causes outside the trial (a signal,
# a dead worker, the storage), after which its parameters deserve another run
FAIL_REASON_ATTR = "fail_reason"
INTERRUPTED = "interrupted by "
STORAGE_FAILED = "storage: "
EXTERNAL_FAILURES = (INTERRUPTED, WORKER_DIED, STORAGE_FAILED)
