"""Reading a study: curves, plots, hypotheses, summaries, voting."""
