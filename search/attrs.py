"""Names of the trial attributes that the search writes and its other commands read.

A light module (no torch): ``search.ensemble``, ``search.final`` and ``search.report`` read
these without importing the objective that writes them.
"""

# what a run ended with: status, steps, total_steps, best_step, metrics, timings_s, memory,
# truncated_entities (entities cut by max_len) and examples (train with augmented copies, dev)
RUN_ATTR = "run"
# each evaluation's cost so far, {str(step): [seconds, train examples]}: wall seconds since
# training started (evaluations included) and the train examples stepped over by then
EVAL_COSTS_ATTR = "eval_costs"
# artifact ids of the dev and test predictions (submission CSV with class probabilities)
PREDICTIONS_ATTR = "dev_predictions_artifact"
TEST_PREDICTIONS_ATTR = "test_predictions_artifact"
