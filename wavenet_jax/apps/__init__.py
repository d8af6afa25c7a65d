"""The applications: one module per launch.py mode or experiment, built on the library."""
