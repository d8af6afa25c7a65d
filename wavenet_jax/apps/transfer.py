"""The swap-a-speaker transfer study: swap one class's data for other audio, keep training, measure.

A trained conditioned model (ours or imported) continues training on a mix in which one
class (speaker p225) now holds other audio (blues). Every `transfer.every_steps` steps the
run is evaluated (validation NLL of every class), its class embeddings are read, and a
short generation per class is written. At the end a report (markdown, PNG plots, linked
audio) answers the seed's three questions with numbers:

  1. How quickly does the new audio change the swapped class? Its NLL on its new
     validation audio, and the steps until half (and 90%) of its total fall.
  2. Does the swap change every class as much as the swapped one? Each other class's
     relative change of NLL and of its embedding vector, beside the swapped class's.
  3. Does the model take in the new sounds or just degrade? The spectral distance of the
     swapped class's generations to the new audio and to the other classes' audio, at
     the start and the end, and the other classes' NLL change.

The study is segments of ordinary training (training/loop.train_and_evaluate resumes from the
workdir's latest checkpoint), so a killed study resumes where it stopped; the
checkpoint of every segment is kept, and `history.json` holds exactly what
`--mode=eval` of that checkpoint reports.
"""
import json
import math
import os

import jax
import jax.numpy as jnp
import numpy as np

from wavenet_jax.checkpoints import checkpointing
from wavenet_jax.common import config_checks, files, plots
from wavenet_jax.generation import generate
from wavenet_jax.input import audio
from wavenet_jax.kinds import registry
from wavenet_jax.training import loop
from wavenet_jax.training import run as run_lib

HISTORY = 'history.json'


# ------------------------------------------------------------------------- measures

def steps_to_fraction(steps, values, fraction):
  """First recorded step at which `values` fell by `fraction` of its largest fall; None if no fall."""
  values = np.asarray(values, np.float64)
  total = values[0] - values.min()
  if total <= 0:
    return None
  reached = np.nonzero(values[0] - values >= fraction * total - 1e-12)[0]
  return int(steps[reached[0]])


def relative_change(before, after):
  """(after - before) / |before|, elementwise."""
  before, after = np.asarray(before, np.float64), np.asarray(after, np.float64)
  return (after - before) / np.abs(before)


def embedding_drift(table0, table):
  """Per-row ||e_t - e_0|| / ||e_0|| of two embedding tables [K, E] -> [K]."""
  table0, table = np.asarray(table0, np.float64), np.asarray(table, np.float64)
  return np.linalg.norm(table - table0, axis=1) / np.linalg.norm(table0, axis=1)


def spectral_profile(wavs, sample_rate, n_mels=64, top_db=60.0):
  """Mean log-mel power over every frame of `wavs` ([T] arrays) -> [n_mels], in dB below each
  clip's loudest bin and floored `top_db` under it: the spectrum's shape, not the clip's level,
  and not how far below the 8-bit mu-law noise floor a silent band of a synthetic clip lies."""
  import librosa
  frames = [librosa.power_to_db(librosa.feature.melspectrogram(
      y=np.asarray(w, np.float32), sr=sample_rate, n_fft=1024, hop_length=256, n_mels=n_mels),
      ref=np.max, top_db=top_db) for w in wavs if len(w) >= 1024]
  if not frames:
    raise ValueError('no audio of at least 1,024 samples to profile')
  return np.concatenate(frames, axis=1).mean(axis=1)


def spectral_distance(a, b):
  """RMS difference in dB of two spectral profiles."""
  return float(np.sqrt(np.mean((np.asarray(a) - np.asarray(b))**2)))


# ---------------------------------------------------------------------------- study

def check(config):
  """The study's keys: one line naming a bad one, before anything trains."""
  s = config.transfer
  if not isinstance(s.every_steps, int) or s.every_steps < 1:
    raise config_checks.ConfigError(f'transfer.every_steps={s.every_steps!r}: must be an integer >= 1')
  if not s.swapped_class:
    raise config_checks.ConfigError('transfer.swapped_class is empty: name the class whose data was swapped')
  if config.model.gc_cardinality == 0 or not registry.of(config.model).supports('transfer'):
    raise config_checks.ConfigError('model: the transfer study needs a class-conditioned WaveNet '
                                    '(model.gc_cardinality != 0)')
  if not isinstance(s.generate_num_samples, int) or s.generate_num_samples < 1024:
    raise config_checks.ConfigError(f'transfer.generate_num_samples={s.generate_num_samples!r}: '
                                    f'must be an integer >= 1024 (its spectrum is compared)')
  if not config.train.init_from:
    raise config_checks.ConfigError('train.init_from is empty: the study continues a trained model '
                                    '(a run of ours, or an ibab checkpoint prefix)')


def segments(config):
  """The steps at which the study measures: 0 (the starting model), every_steps, ..., num_train_steps."""
  n, every = config.train.num_train_steps, config.transfer.every_steps
  return [0] + list(range(every, n, every)) + ([n] if n > 0 else [])


def study(config, workdir):
  """Runs (or resumes) the study and writes WORKDIR/report/. Returns the report's numbers."""
  check(config)
  workdir = config_checks.check_workdir(workdir)
  report_dir = os.path.join(workdir, 'report')
  history_path = os.path.join(report_dir, HISTORY)
  history = _load_history(history_path)
  config = config.copy_and_resolve_references()
  with config.unlocked():
    config.train.max_checkpoints_to_keep = None  # every segment's checkpoint stays evaluable
    config.train.eval_every_steps = 0  # the study evaluates at its own steps
    if not config.data.class_names_from and not os.path.exists(config.train.init_from + '.index'):
      config.data.class_names_from = config.train.init_from  # each class keeps its embedding row
  run = run_lib.open_run(config, workdir)  # checks the config and data before anything trains
  _check_swapped(config, run.class_names)
  for step in segments(config):
    if str(step) in history:
      continue
    segment = config.copy_and_resolve_references()
    with segment.unlocked():
      segment.train.num_train_steps = step
    metrics = loop.train_and_evaluate(segment, workdir)
    params = _checkpoint_params(workdir, step)
    record = {'step': step, 'bits_per_sample': metrics['bits_per_sample'],
              'bits_per_sample_per_class': metrics['bits_per_sample_per_class'],
              'embedding': np.asarray(params['params']['gc_embedding'], np.float64).tolist(),
              'audio': _generate(run, params, config, report_dir, step)}
    history[str(step)] = record
    _write_json(history_path, history)
    print(f'transfer study: step {step} measured ({metrics["bits_per_sample"]:.4f} bits/sample)', flush=True)
  numbers = analyse(history, run.class_names, config.transfer.swapped_class,
                    _reference_profiles(run, config), config.data.sample_rate, report_dir)
  write_report(numbers, history, run.class_names, config, report_dir)
  return numbers


def _check_swapped(config, class_names):
  if config.transfer.swapped_class not in class_names:
    raise config_checks.ConfigError(f'transfer.swapped_class={config.transfer.swapped_class!r}: not a '
                                    f'class of this run ({", ".join(class_names)})')


def _load_history(path):
  if not os.path.exists(path):
    return {}
  with open(path) as f:
    return json.load(f)


def _write_json(path, value):
  files.write_json(path, value, indent=1)


def _checkpoint_params(workdir, step):
  state, _ = checkpointing.load(os.path.join(checkpointing.checkpoint_dir(workdir), str(step)))
  return checkpointing.eval_params(state)


def generated_classes(config, class_names):
  """The swapped class first, then transfer.generate_classes or the first others (at most 4)."""
  swapped = config.transfer.swapped_class
  chosen = list(config.transfer.generate_classes) or [c for c in class_names if c != swapped][:4]
  for name in chosen:
    if name not in class_names:
      raise config_checks.ConfigError(f'transfer.generate_classes: {name!r} is not a class of this run '
                                      f'({", ".join(class_names)})')
  return [swapped] + [c for c in chosen if c != swapped]


def _generate(run, params, config, report_dir, step):
  """A short generation per chosen class at this step -> {class: wav path relative to the report}."""
  names = generated_classes(config, run.class_names)
  ids = jnp.asarray([run.class_names.index(n) for n in names], jnp.int32)
  keys = jnp.stack([jax.random.key(config.generate.seed + i) for i in range(len(names))])
  m = config.model
  draws = generate.generate(run.model, params, keys, config.transfer.generate_num_samples, ids,
                            config.generate.temperature, m.mu_law)
  wavs = generate.to_audio(run.model, draws, m.mu_law)
  out = {}
  for name, wav in zip(names, wavs):
    rel = os.path.join('audio', f'step_{step:07d}', f'{name}.wav')
    path = os.path.join(report_dir, rel)
    audio.write_wav(path, wav, config.data.sample_rate)
    out[name] = rel
  return out


def _reference_profiles(run, config, max_clips=64):
  """Spectral profiles of validation audio (up to `max_clips` clips of up to a generation's
  length each): the swapped class's (the new audio) and the other classes'."""
  from wavenet_jax.input import pipeline
  swapped_id = run.class_names.index(config.transfer.swapped_class)
  groups = {'swapped': [], 'others': []}
  batches = pipeline.eval_batches(
      run.sources, which='eval', seed=config.eval.seed, receptive_field=0,
      sample_size=config.transfer.generate_num_samples, batch_size=8,
      silence_threshold=config.data.silence_threshold)
  for batch in batches:
    for wav, mask, label in zip(batch['audio'], batch['mask'], batch['label']):
      group = groups['swapped' if label == swapped_id else 'others']
      if mask.sum() and len(group) < max_clips:
        group.append(wav[mask > 0])
  return {k: spectral_profile(v, config.data.sample_rate) for k, v in groups.items()}


def analyse(history, class_names, swapped, references, sample_rate, report_dir):
  """The numbers of the report, from the recorded history."""
  steps = sorted(int(s) for s in history)
  first, last = history[str(steps[0])], history[str(steps[-1])]
  nll = np.array([[history[str(s)]['bits_per_sample_per_class'][c] for c in class_names] for s in steps])
  k = class_names.index(swapped)
  others = [i for i in range(len(class_names)) if i != k]
  rel_nll = relative_change(nll[0], nll[-1])  # [K]
  drift = embedding_drift(first['embedding'], last['embedding'])  # [K]

  def audio_distances(record):
    import soundfile
    wav = soundfile.read(os.path.join(report_dir, record['audio'][swapped]), dtype='float32')[0]
    profile = spectral_profile([wav], sample_rate)
    return {'to_new_audio': spectral_distance(profile, references['swapped']),
            'to_other_classes': spectral_distance(profile, references['others'])}

  start_audio, end_audio = audio_distances(first), audio_distances(last)
  mean_other_rel = float(np.mean(np.abs(rel_nll[others]))) if others else float('nan')
  mean_other_drift = float(np.mean(drift[others])) if others else float('nan')
  other_nll_change = float(np.mean(rel_nll[others])) if others else float('nan')
  return {
      'steps': steps, 'swapped_class': swapped, 'class_names': list(class_names),
      'nll_bits': {c: nll[:, i].tolist() for i, c in enumerate(class_names)},
      # Q1: speed
      'swapped_nll_start': float(nll[0, k]), 'swapped_nll_end': float(nll[-1, k]),
      'swapped_steps_to_half_fall': steps_to_fraction(steps, nll[:, k], 0.5),
      'swapped_steps_to_90pc_fall': steps_to_fraction(steps, nll[:, k], 0.9),
      # Q2: relative change
      'relative_nll_change': dict(zip(class_names, rel_nll.tolist())),
      'embedding_drift': dict(zip(class_names, drift.tolist())),
      'others_mean_abs_relative_nll_change': mean_other_rel,
      'others_mean_embedding_drift': mean_other_drift,
      'others_to_swapped_nll_change_ratio': float(mean_other_rel / max(abs(rel_nll[k]), 1e-12)),
      'others_to_swapped_drift_ratio': float(mean_other_drift / max(drift[k], 1e-12)),
      # Q3: new sounds or degradation
      'swapped_generation_distance_start': start_audio,
      'swapped_generation_distance_end': end_audio,
      'others_mean_relative_nll_change': other_nll_change,
  }


# --------------------------------------------------------------------------- report

def _plot_curves(numbers, path):
  fig, ax = plots.figure((8, 4.5))
  for name, values in numbers['nll_bits'].items():
    swapped = name == numbers['swapped_class']
    ax.plot(numbers['steps'], values, marker='o', lw=2.5 if swapped else 1, alpha=1 if swapped else 0.6,
            color='crimson' if swapped else None, label=f'{name} (swapped)' if swapped else name)
  ax.set_xlabel('steps since the swap')
  ax.set_ylabel('validation NLL (bits/sample)')
  ax.set_title('Per-class validation NLL during the transfer')
  if len(numbers['nll_bits']) <= 20:
    ax.legend(fontsize=7, ncol=2)
  _save(fig, path)


def _plot_changes(numbers, path):
  names = numbers['class_names']
  colors = ['crimson' if n == numbers['swapped_class'] else 'steelblue' for n in names]
  fig, axes = plots.figure((max(8, 0.35 * len(names) + 4), 4), ncols=2)
  for ax, key, title in ((axes[0], 'relative_nll_change', 'relative NLL change'),
                         (axes[1], 'embedding_drift', 'embedding drift ||e_T - e_0|| / ||e_0||')):
    ax.bar(range(len(names)), [numbers[key][n] for n in names], color=colors)
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels(names, rotation=90, fontsize=7)
    ax.set_title(title)
    ax.axhline(0, color='black', lw=0.5)
  _save(fig, path)


def _save(fig, path):
  plots.save_figure(fig, path)


def _fmt(x, digits=4):
  return 'n/a' if x is None or (isinstance(x, float) and math.isnan(x)) else f'{x:.{digits}f}'


def write_report(numbers, history, class_names, config, report_dir):
  """report.md + nll_per_class.png + changes.png (+ the audio already written) + numbers.json."""
  _plot_curves(numbers, os.path.join(report_dir, 'nll_per_class.png'))
  _plot_changes(numbers, os.path.join(report_dir, 'changes.png'))
  _write_json(os.path.join(report_dir, 'numbers.json'), numbers)
  s, n = numbers['swapped_class'], numbers
  start, end = n['swapped_generation_distance_start'], n['swapped_generation_distance_end']
  toward = end['to_new_audio'] < start['to_new_audio']
  closer_to_new = end['to_new_audio'] < end['to_other_classes']
  lines = [
      f'# Transfer study: class {s} swapped', '',
      f'Started from `{config.train.init_from}`; {n["steps"][-1]} steps on the mix, measured at steps '
      f'{", ".join(map(str, n["steps"]))}. Validation NLL is in bits/sample on each class\'s own '
      f'validation audio (for {s}: the new audio).', '',
      '![per-class NLL](nll_per_class.png)', '',
      '## 1. How quickly did the new audio change the swapped class?', '',
      f'{s}: {_fmt(n["swapped_nll_start"])} -> {_fmt(n["swapped_nll_end"])} bits/sample; half of its fall '
      f'by step {n["swapped_steps_to_half_fall"] if n["swapped_steps_to_half_fall"] is not None else "n/a (no fall)"}, '
      f'90% by step {n["swapped_steps_to_90pc_fall"] if n["swapped_steps_to_90pc_fall"] is not None else "n/a"}.', '',
      '## 2. Did the swap change every class as much as the swapped one?', '',
      f'Mean |relative NLL change| of the other classes: {_fmt(n["others_mean_abs_relative_nll_change"])} '
      f'vs {_fmt(abs(n["relative_nll_change"][s]))} for {s} (ratio {_fmt(n["others_to_swapped_nll_change_ratio"], 3)}). '
      f'Mean embedding drift of the others: {_fmt(n["others_mean_embedding_drift"])} vs '
      f'{_fmt(n["embedding_drift"][s])} for {s} (ratio {_fmt(n["others_to_swapped_drift_ratio"], 3)}).', '',
      '![changes](changes.png)', '',
      '| class | NLL start | NLL end | relative NLL change | embedding drift |',
      '| --- | --- | --- | --- | --- |',
  ]
  for c in class_names:
    mark = ' (swapped)' if c == s else ''
    lines.append(f'| {c}{mark} | {_fmt(n["nll_bits"][c][0])} | {_fmt(n["nll_bits"][c][-1])} | '
                 f'{_fmt(n["relative_nll_change"][c])} | {_fmt(n["embedding_drift"][c])} |')
  lines += [
      '', '## 3. New sounds, or degradation?', '',
      f'Spectral distance (RMS dB between mean log-mel spectra, each clip relative to its peak) of {s}\'s generation to its new validation '
      f'audio: {_fmt(start["to_new_audio"], 2)} at the start, {_fmt(end["to_new_audio"], 2)} at the end; '
      f'to the other classes\' audio: {_fmt(start["to_other_classes"], 2)} -> {_fmt(end["to_other_classes"], 2)}. '
      f'Other classes\' mean relative NLL change: {_fmt(n["others_mean_relative_nll_change"])}.', '',
      f'Reading: {s}\'s generations moved {"toward" if toward else "away from"} the new audio and are now '
      f'{"closer to it than to" if closer_to_new else "no closer to it than to"} the other classes; the other '
      f'classes\' NLL {"rose" if n["others_mean_relative_nll_change"] > 0 else "did not rise"} on average.', '',
      '## Audio', '', '| step | ' + ' | '.join(history[str(n['steps'][0])]['audio']) + ' |',
      '| --- |' + ' --- |' * len(history[str(n['steps'][0])]['audio']),
  ]
  for step in n['steps']:
    links = [f'[wav]({rel})' for rel in history[str(step)]['audio'].values()]
    lines.append(f'| {step} | ' + ' | '.join(links) + ' |')
  path = os.path.join(report_dir, 'report.md')
  files.write_text(path, '\n'.join(lines) + '\n')
  print(f'transfer study: report in {path}', flush=True)
