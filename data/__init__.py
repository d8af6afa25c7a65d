"""Prepare script and TFDS builders that turn audio sources into prepared datasets."""
