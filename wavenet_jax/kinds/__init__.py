"""Model kinds: the registry (what `model.kind` may name) and one module per family of kinds."""
