"""Models: classifier heads, the built-in tiny model, resolving and loading checkpoints, TAPT."""
