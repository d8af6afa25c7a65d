"""The prepare script, `python data/prepare.py` (the builders are wavenet_jax.datasets). Not installed;
a package so that the tests, run from the checkout, can call the script's main."""
