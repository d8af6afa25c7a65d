"""The networks: flax.linen modules (WaveNet, the NSynth autoencoder, the classifier) and their layers."""
