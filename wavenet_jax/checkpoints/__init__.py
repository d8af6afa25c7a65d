"""Checkpoints: orbax save/restore, importers of ibab's and magenta's TF checkpoints, warm starts."""
