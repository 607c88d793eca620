"""How a trial is stopped early: pure MO-ASHA, the pruners a worker asks, where evaluations live."""
