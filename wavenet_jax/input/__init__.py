"""Audio in: decoding and mu-law, the tf.data pipeline, noise augmentation, the run's data sources."""
