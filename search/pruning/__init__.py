"""How a trial is stopped: MO-ASHA, the Optuna pruner around it, study stoppers."""
