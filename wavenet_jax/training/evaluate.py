"""`--mode=eval` in the library: a checkpoint's evaluation, written beside it.

`evaluate(config, workdir, split, step)` restores a checkpoint, computes the kind's metrics
and extra evaluations (Kind.extra_evaluations, given a TensorBoard writer in WORKDIR/eval),
writes WORKDIR/eval_<split>.json and the kind's eval images as <name>_<split>.png, and prints
the kind's eval report.
"""
import os

import jax
from clu import metric_writers

from wavenet_jax.checkpoints import checkpointing
from wavenet_jax.common import files, plots
from wavenet_jax.training import optim, steps
from wavenet_jax.training.run import open_run


def evaluate(config, workdir: str, split: str = '', step=None) -> dict:
  """`--mode=eval`: the metrics of checkpoint `step` (default eval.step; 0 = the latest) on
  `split`, printed and written to WORKDIR/eval_<split>.json.

  NLL in bits/sample (per class too) for WaveNets and autoencoders; for classifiers accuracy,
  top-5, per-class accuracy and the confusion matrix (also drawn to WORKDIR/confusion_<split>.png),
  by crop and by whole clip (clip_confusion_<split>.png), beside the MFCC baseline's accuracy;
  for vocoders also resynthesis scores beside Griffin-Lim's (evaluation/resynthesis.py).
  """
  run = open_run(config, workdir)
  split = split or config.data.eval_split
  tx, _ = optim.make_optimizer(config)
  target = run.init_state(tx)
  step = (config.eval.step or None) if step is None else step
  ckpt = checkpointing.Checkpointer(run.workdir, read_only=True)
  if ckpt.latest_step() is None:
    raise checkpointing.CheckpointError(f'{run.workdir}: no checkpoint to evaluate')
  if step is not None and step not in ckpt.all_steps():
    raise checkpointing.CheckpointError(f'{ckpt.directory}: no checkpoint at step {step} (eval.step); '
                                        f'it has {", ".join(map(str, ckpt.all_steps()))}')
  try:
    state, meta = ckpt.restore(step, target=target)
  except checkpointing.UnreadableCheckpoint as e:
    raise e.with_others(ckpt.all_steps(), '--config.eval.step={step}') from None
  finally:
    ckpt.close()
  eval_step = steps.make_eval_step(run.kind, run.model, config, len(run.class_names), run.mesh)
  params = checkpointing.eval_params(state)
  writer = metric_writers.create_default_writer(os.path.join(run.workdir, 'eval'),
                                                just_logging=jax.process_index() > 0)
  metrics = run.evaluate(eval_step, params, split, writer, meta['step'])
  writer.close()
  metrics['step'] = meta['step']
  if jax.process_index() == 0:
    files.write_json(os.path.join(run.workdir, f'eval_{split}.json'), metrics)
    for name, image in run.kind.eval_images(metrics, meta['step']).items():
      plots.save_image(os.path.join(run.workdir, f'{name}_{split}.png'), image)
  print(f'step {meta["step"]} {run.kind.format_eval(metrics)}', flush=True)
  return metrics
