"""Fast generation: queue state, one step, and the sampling scan."""
