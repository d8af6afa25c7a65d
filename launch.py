"""Entry point: python launch.py --config=configs/X.py --workdir=DIR [--mode=MODE] [--config.a.b=v].

Modes: train (default; a relaunch resumes; a config with a `transfer` block runs the transfer
study), eval, generate (wavs from a WaveNet), encode (audio -> NSynth embedding .npy files),
synthesize (embeddings or an interpolation -> wavs), embeddings (class embeddings or encoder
vectors -> .npy, TSVs, PCA and t-SNE plots), vocode (audio or log-mel .npy files -> speech).
With --sweep=configs/sweeps/X.py (--config optional: it replaces the sweep's base) it trains
every run of a sweep file in its own --workdir/<run> and writes --workdir/results.{csv,md,png}.
The installed command `wavenet-jax` is the same (wavenet_jax/cli.py holds both).
"""
from wavenet_jax import cli

if __name__ == '__main__':
  cli.main()
