"""A kind's train step on all of this process's devices against the same step on one (run by
tests/test_parallel_wavegan.py with XLA_FLAGS=--xla_force_host_platform_device_count=2).

    python tests/mesh_worker.py KIND STEPS OUT.npz [KEY=INT ...]

Builds the kind's test-size config (tests/test_export.kind_config, with the config's integer
settings given, e.g. train.discriminator_start_steps=2) and one example per device,
runs STEPS train steps from the same random state and batch on a mesh of every device (the
batch split over them) and on a mesh of the first, and saves both runs' params and losses.
"""
import os
import sys

import jax
import jax.numpy as jnp
import numpy as np

sys.path.insert(1, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from tests import tiny  # noqa: E402 (after the checkout joins sys.path)
from tests.test_export import kind_config  # noqa: E402
from wavenet_jax.kinds import registry  # noqa: E402
from wavenet_jax.runtime import sharding  # noqa: E402
from wavenet_jax.training import optim, steps  # noqa: E402


def run(kind, config, model, params, batch, mesh, num_steps):
  """-> (params, [loss]) after num_steps steps on `mesh`."""
  tx, schedule = optim.make_optimizer(config)
  state = steps.TrainState(step=jnp.zeros((), jnp.int32), params=params, opt_state=tx.init(params),
                           ema_params=None, rng=jax.random.PRNGKey(0))
  state = jax.device_put(state, sharding.replicated(mesh))
  step = steps.make_train_step(kind, model, config, tx, schedule, mesh)
  batch = {k: jax.device_put(v, sharding.batch_sharding(mesh)) for k, v in batch.items()}
  losses = []
  for _ in range(num_steps):
    state, metrics = step(state, batch)
    losses.append(float(metrics['loss']))
  return jax.device_get(state.params), losses


def main(name, num_steps, out, *settings):
  config = kind_config(name)
  for setting in settings:
    key, value = setting.split('=')
    section, field = key.split('.')
    config[section][field] = int(value)
  config.train.batch_size = jax.device_count()
  kind = registry.get(name)
  model = kind.build(config, kind.num_classes(config, 3))
  params = jax.device_get(tiny.random_params(model, *kind.init_inputs(model, config.model)))  # host copies: each
  # run puts its own on its devices (the step donates its state)
  crop = kind.context(model) + config.data.sample_size + kind.context_after(model)
  rng = np.random.default_rng(0)
  audio = (0.5 * np.sin(np.arange(crop) * rng.uniform(0.02, 0.2, (config.train.batch_size, 1)))
           + 0.05 * rng.standard_normal((config.train.batch_size, crop))).astype(np.float32)
  batch = {'audio': audio, 'mask': np.ones_like(audio), 'label': np.zeros(config.train.batch_size, np.int32)}
  devices = jax.devices()
  every = jax.sharding.Mesh(np.array(devices), ('data',))
  first = jax.sharding.Mesh(np.array(devices[:1]), ('data',))
  saved = {'devices': len(devices)}
  for label, mesh in (('all', every), ('one', first)):
    params_out, losses = run(kind, config, model, params, batch, mesh, num_steps)
    saved[f'{label}_losses'] = np.array(losses)
    saved.update({f'{label}{jax.tree_util.keystr(k)}': np.asarray(v)
                  for k, v in jax.tree_util.tree_leaves_with_path(params_out)})
  np.savez(out, **saved)


if __name__ == '__main__':
  main(sys.argv[1], int(sys.argv[2]), *sys.argv[3:])
