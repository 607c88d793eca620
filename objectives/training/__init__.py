"""Training: the loop, k-fold, resources, a run's outputs."""
