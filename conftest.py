"""Makes the repository root importable (`wavenet_jax`, `data`) for every test."""
