"""The one registry of model kinds, and `Kind`, the contract every kind fulfils.

A kind says how its model is built from the config and which settings it needs, how much
context a crop carries, its loss, what training logs and samples, its optimizer's parameter
groups, its evaluation (metrics, extra evaluations, the printed table, TensorBoard scalars and
images) and the launch.py modes it supports. Training, evaluation, sweeps, generation and the
embedding tools ask the kind; no other code compares kind names or reads a metric key to guess
one. A new kind is one module with a `Kind` subclass and one line in `_BUILTIN` (or
`register(kind)` from anywhere, as the tests do). Shapes: B examples, C crop samples, K classes.
"""
import abc
import importlib
from typing import Any, Callable, ClassVar, Dict, FrozenSet, Mapping, NamedTuple, Optional, Tuple

import numpy as np

from wavenet_jax.common.config_checks import ConfigError

DEFAULT = 'wavenet'  # what a config or checkpoint without `model.kind` means
MODES = frozenset({'train', 'eval', 'generate', 'encode', 'synthesize', 'embeddings', 'transfer', 'vocode'})

# The modules whose KINDS tuple holds the built-in kinds, in the order users see them.
_BUILTIN = ('wavenet_jax.kinds.wavenet', 'wavenet_jax.kinds.nsynth_autoencoder',
            'wavenet_jax.kinds.nsynth_classifier', 'wavenet_jax.kinds.vocoder',
            'wavenet_jax.kinds.parallel_wavegan')

Metrics = Dict[str, Any]  # a kind's eval metrics: numbers, per-class dicts, 'split'


class ParamGroups(NamedTuple):
  """Parameters that train at their own rate: `label(params)` is a pytree of group names
  shaped like params, `scales` each group's learning-rate factor (0: frozen). A group named
  in `own` has an optimizer of its own: config.train's settings (optimizer, rate, schedule,
  clipping) with those of config.train.<group> in their place; a group in `starts` stays
  frozen, its optimizer idle, before that step (a GAN's discriminator)."""
  label: Callable[[Any], Any]
  scales: Mapping[str, float]
  own: Tuple[str, ...] = ()
  starts: Mapping[str, int] = {}


class Kind(abc.ABC):
  """One model kind. Subclasses set the class attributes and implement the abstract methods;
  the others have the defaults a kind without that feature wants."""
  name: ClassVar[str]
  description: ClassVar[str]  # one line
  metrics: ClassVar[Tuple[str, ...]]  # keys of the eval metrics ('name/' = a per-class dict)
  headline: ClassVar[str]  # the metric a sweep compares by default
  modes: ClassVar[FrozenSet[str]]  # the launch.py modes it supports
  class_conditioned: ClassVar[bool] = False  # the class is an input (gc embedding), not a target

  def supports(self, mode: str) -> bool:
    return mode in self.modes

  # --- the model and its settings

  def check(self, config) -> None:
    """The kind's own config checks: a one-line ConfigError naming the key."""

  def check_data(self, config, sources) -> None:
    """Checks of the data it is given (input/sources.Sources), once opened."""

  @abc.abstractmethod
  def num_classes(self, config, dataset_classes: int) -> int:
    """What `build` takes as its class count (gc rows or head outputs)."""

  @abc.abstractmethod
  def build(self, config, num_classes: int):
    """-> the flax module."""

  @abc.abstractmethod
  def init_inputs(self, model, model_config) -> Tuple:
    """Example arguments of model.init."""

  @abc.abstractmethod
  def describe(self, model) -> str:
    """What a run's first line says about the model."""

  # --- crops

  @abc.abstractmethod
  def context(self, model) -> int:
    """Samples of history padded before each crop (the receptive field, or 0)."""

  def context_after(self, model) -> int:
    """Samples a crop carries past its predicted ones."""
    return 0

  def align(self, model) -> int:
    """Crops' predicted samples start at a multiple of it."""
    return 1

  # --- training

  @abc.abstractmethod
  def objective(self, model, config, params, batch, gc_ids=None, step=0, key=None) -> Tuple[Any, Dict[str, Any]]:
    """(loss, {'loss': loss, ...}) of a batch; gc_ids [B] (after class dropout) or None; step
    the train step (traced: a loss that changes with it), key this step's PRNG key."""

  def param_groups(self, config) -> Optional[ParamGroups]:
    """Parameter groups with their own learning rates, or None: one group."""
    return None

  def train_scalars(self, mean: Dict[str, float]) -> Dict[str, float]:
    """The training metrics averaged since the last log line -> TensorBoard scalars."""
    return {f'train/{k}': v for k, v in mean.items()}

  def format_train(self, mean: Dict[str, float]) -> str:
    """The training metrics of a log line."""
    return f'loss {mean["loss"]:.4f}'

  def training_samples(self, model, params, config, class_names) -> Dict[str, np.ndarray]:
    """{name: audio [T]} drawn every train.generate_every_steps (TensorBoard audio and
    spectrograms), or {} for a kind that does not sample."""
    return {}

  # --- evaluation

  @abc.abstractmethod
  def eval_sums(self, model, config, params, batch, num_classes: int) -> Dict[str, Any]:
    """{name: per-class sums [K, ...]} of a batch, summed over batches."""

  @abc.abstractmethod
  def summarize(self, sums: Dict[str, np.ndarray], class_names, split: str) -> Metrics:
    """The summed numpy sums -> the eval metrics a user reads (and eval_<split>.json)."""

  def extra_evaluations(self, run, params, split: str, writer=None, step: int = 0) -> Metrics:
    """Metrics beyond the eval step's sums (whole clips, a baseline, resynthesis), added to
    the summary. `run` is training/run.Run; writer (a clu metric writer) is given by
    --mode=eval only, where the expensive ones run and write what they make."""
    return {}

  @abc.abstractmethod
  def format_eval(self, metrics: Metrics) -> str:
    """The eval metrics as printed (a line, or a table)."""

  @abc.abstractmethod
  def eval_scalars(self, metrics: Metrics) -> Dict[str, float]:
    """The eval metrics as TensorBoard scalars ('eval/...')."""

  def eval_images(self, metrics: Metrics, step: int) -> Dict[str, np.ndarray]:
    """{name: image [H, W, 3] uint8}: TensorBoard's eval/<name>, --mode=eval's <name>_<split>.png."""
    return {}

  # --- vocoding (kinds with the 'vocode' mode)

  def check_vocode(self, model, meta, config) -> Optional[int]:
    """--mode=vocode's settings (config.generate, config.vocode) for this trained model, in one
    line each -> the class (speaker) id every file is vocoded as, or None."""
    raise NotImplementedError(f'model.kind {self.name!r} does not vocode')

  def draw_speech(self, model, params, items, class_ids, config, sinks, label: str) -> None:
    """Log-mels [(name, frames [F_i, M])] -> each file's F_i·hop samples written to its sink
    (an open wav or generation/chunks.Collected: `.write(samples)`, in pieces or whole);
    class_ids [N] (each file's speaker) or None. --mode=vocode and the resynthesis scores."""
    raise NotImplementedError(f'model.kind {self.name!r} does not vocode')


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
  if not isinstance(kind, Kind):
    raise TypeError(f'{kind!r}: a kind is an instance of a registry.Kind subclass')
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
