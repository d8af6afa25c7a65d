"""The one registry of model kinds: everything that depends on `model.kind` is declared here.

A kind says how its model is built from the config, how much context each crop needs, its
loss and evaluation metrics, the launch.py modes it supports and a one-line description.
Training, evaluation, sweeps, generation and the embedding tools ask the registry; no other
code compares kind names. A new kind is one module that builds a `Kind` and one line in
`_BUILTIN` (or `register(kind)` from anywhere, as the tests do).
"""
import dataclasses
import importlib
from typing import Callable, Dict, FrozenSet, Optional, Tuple

from wavenet_jax.common.config_checks import ConfigError

DEFAULT = 'wavenet'  # what a config or checkpoint without `model.kind` means
MODES = frozenset({'train', 'eval', 'generate', 'encode', 'synthesize', 'embeddings', 'transfer', 'vocode'})

# The modules whose KINDS tuple holds the built-in kinds, in the order users see them.
_BUILTIN = ('wavenet_jax.kinds.wavenet', 'wavenet_jax.kinds.nsynth_autoencoder',
            'wavenet_jax.kinds.nsynth_classifier', 'wavenet_jax.kinds.vocoder')


@dataclasses.dataclass(frozen=True)
class Kind:
  """One model kind. Shapes: B examples, C crop samples, K classes."""
  name: str
  description: str  # one line
  # (config, dataset class count) -> what `build` takes as its class count: gc rows or head outputs
  num_classes: Callable
  build: Callable  # (config, num_classes) -> flax module
  context: Callable  # model -> samples of history padded before each crop (receptive field, or 0)
  init_inputs: Callable  # (model, config.model) -> example arguments of model.init
  # (model, config, params, batch, gc_ids [B] or None) -> (loss, {'loss': .., ...})
  objective: Callable
  # (model, config, params, batch, num_classes) -> {name: per-class sums [K, ...]}, summed over batches
  eval_sums: Callable
  summarize: Callable  # (summed numpy sums, class names, split) -> the eval metrics a user reads
  metrics: Tuple[str, ...]  # keys of the eval metrics ('name/' = a per-class dict)
  headline: str  # the metric a sweep compares by default
  modes: FrozenSet[str]
  describe: Callable  # model -> what a run's first line says about it
  check: Callable = lambda config: None  # kind-specific config checks (one-line ConfigError)
  class_conditioned: bool = False  # the class is an input (gc embedding), not a target
  context_after: Callable = lambda model: 0  # model -> samples a crop carries past its predicted ones
  align: Callable = lambda model: 1  # model -> crops' predicted samples start at a multiple of it
  # A classifier's (model, params, audio [B, S], mask [B, S]) -> class logits [B, K]: evaluation
  # then also scores whole clips and the MFCC baseline (training/clip_scores.py, baseline.py).
  clip_logits: Optional[Callable] = None

  def supports(self, mode: str) -> bool:
    return mode in self.modes


_KINDS: Dict[str, Kind] = {}
_loaded = False


def _load_builtins():
  global _loaded
  if not _loaded:
    _loaded = True
    for module in _BUILTIN:
      for kind in importlib.import_module(module).KINDS:
        _KINDS.setdefault(kind.name, kind)


def register(kind: Kind) -> Kind:
  """Adds (or replaces) a kind; returns it."""
  _load_builtins()
  unknown = set(kind.modes) - MODES
  if unknown:
    raise ValueError(f'kind {kind.name!r}: unknown modes {sorted(unknown)} (known: {sorted(MODES)})')
  _KINDS[kind.name] = kind
  return kind


def names() -> Tuple[str, ...]:
  _load_builtins()
  return tuple(_KINDS)


def get(name: str) -> Kind:
  """The kind named `name`, or a one-line ConfigError listing the known ones."""
  _load_builtins()
  if name not in _KINDS:
    raise ConfigError(f'model.kind={name!r}: must be one of {", ".join(_KINDS)}')
  return _KINDS[name]


def name_of(model_config) -> str:
  """The kind name of config.model (or of a checkpoint's meta['model'] dict)."""
  return (model_config or {}).get('kind', DEFAULT)


def of(model_config) -> Kind:
  return get(name_of(model_config))

