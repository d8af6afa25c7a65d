"""Where the computation runs: the device mesh and CPU (XLA, heap) tuning."""
