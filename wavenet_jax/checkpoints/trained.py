"""Trained models loaded for inference: a WaveNet to generate with, an NSynth encoder/decoder,
a vocoder.

Both come from a run's checkpoint (a workdir or step dir; its EMA params when it kept
them); the NSynth model also from magenta's released TF checkpoint prefix, read as
config.model when that is an NSynth kind, else as h512_bo16 at 16 kHz.
"""
import dataclasses
import os
from typing import Optional

import jax
import ml_collections

from wavenet_jax.checkpoints import checkpointing
from wavenet_jax.common.config_checks import ConfigError
from wavenet_jax.kinds import registry
from wavenet_jax.models import nsynth
from wavenet_jax.models.wavenet import WaveNet

MAGENTA_SAMPLE_RATE = 16000  # NSynth's; magenta's checkpoints carry no meta of their own.


def load_wavenet(path, option=None):
  """(model, params, meta) of the WaveNet checkpoint at a workdir or step dir; option: the
  config key that names it (for errors)."""
  state, meta = checkpointing.load(path, option)
  kind = registry.name_of(meta['model'])
  if not registry.get(kind).supports('generate'):
    raise checkpointing.CheckpointError(f'{path}: model.kind {kind!r} does not generate (--mode=generate '
                                        f'needs a WaveNet; an NSynth autoencoder synthesizes: --mode=synthesize)')
  model_config = ml_collections.ConfigDict(meta['model'])
  model_config.gc_cardinality = meta['gc_cardinality']
  return WaveNet.from_config(model_config), checkpointing.eval_params(state), meta


def load_vocoder(path, option=None):
  """(Vocoder, params, meta) of a vocoder checkpoint at a workdir or step dir."""
  state, meta = checkpointing.load(path, option)
  kind = registry.name_of(meta['model'])
  if not registry.get(kind).supports('vocode'):
    raise checkpointing.CheckpointError(f"{path}: model.kind {kind!r} is not a vocoder (--mode=vocode needs "
                                        "model.kind 'vocoder': configs/demo_vocoder.py)")
  config = ml_collections.ConfigDict({'model': meta['model'], 'data': {'sample_rate': meta['sample_rate']}})
  return registry.get(kind).build(config, meta['gc_cardinality']), checkpointing.eval_params(state), meta


def check_guidance(guidance, meta):
  """-> the null class id to guide against (None when guidance is off); a clear error when
  the checkpoint's model has none."""
  if guidance == 1:
    return None
  if meta.get('null_class_id') is None:
    raise ConfigError(
        f'generate.guidance={guidance!r}: this model has no null class to guide against '
        '(train it with model.gc_null_class=True and train.class_dropout > 0), or set 1')
  return meta['null_class_id']


@dataclasses.dataclass
class NSynthModel:
  encoder: nsynth.Encoder
  decoder: Optional[WaveNet]  # None for a classifier trained without one.
  params: dict  # {'encoder': ..., 'decoder': ...}: each module's own params.
  quantization_channels: int  # of the mu-law that makes the encoder's input
  sample_rate: int
  kind: str
  path: str

  @property
  def hop(self) -> int:
    return self.encoder.hop

  @property
  def channels(self) -> int:
    return self.encoder.bottleneck


def load_nsynth(path: str, config=None, option=None) -> NSynthModel:
  """The encoder (and decoder, when there is one) of a run's checkpoint or a magenta TF prefix."""
  path = os.path.expanduser(path)
  if os.path.exists(path + '.index'):
    from wavenet_jax.checkpoints import magenta  # TF's checkpoint reader: only for this.
    m = config.model if config is not None and registry.of(config.model).supports('encode') else None
    m = m if m is not None else nsynth.h512_bo16_config()
    params = jax.device_put(magenta.import_magenta_nsynth(path, m)['params'])
    return NSynthModel(nsynth.encoder_from_config(m.encoder), WaveNet.from_config(m), params,
                       m.quantization_channels, MAGENTA_SAMPLE_RATE, 'nsynth_autoencoder', path)
  state, meta = checkpointing.load(path, option)
  m = ml_collections.ConfigDict(meta.get('model') or {})
  kind = registry.name_of(m)
  if not registry.get(kind).supports('encode'):
    raise checkpointing.CheckpointError(
        f'{path}: model.kind {kind!r} is a WaveNet, not an NSynth autoencoder (encode and '
        f"synthesize need model.kind 'nsynth_autoencoder' or a classifier built on its encoder)")
  params = jax.device_put(checkpointing.eval_params(state)['params'])  # once, not with every window or chunk
  decoder = None
  if registry.get(kind).supports('synthesize') and 'decoder' in params:
    decoder = WaveNet.from_config(m)
    if decoder.lc_channels != m.encoder.bottleneck:
      raise checkpointing.CheckpointError(
          f'{path}: decoder lc_channels {decoder.lc_channels} != encoder bottleneck {m.encoder.bottleneck}')
  if 'encoder' not in params:
    raise checkpointing.CheckpointError(f'{path}: model.kind {kind!r} but no encoder params')
  return NSynthModel(nsynth.encoder_from_config(m.encoder), decoder, params, m.quantization_channels,
                     int(meta['sample_rate']), kind, path)


def need_decoder(model: NSynthModel) -> None:
  if model.decoder is None:
    raise checkpointing.CheckpointError(
        f'{model.path}: model.kind {model.kind!r} has no decoder: synthesize needs an NSynth '
        f"autoencoder (model.kind 'nsynth_autoencoder' or 'nsynth_autoencoder_classifier')")
