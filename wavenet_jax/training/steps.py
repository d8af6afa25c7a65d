"""The pure steps: (state, batch) -> (state, metrics) and (params, batch) -> per-class sums.

Both are jitted over a mesh of all devices, state replicated and batch sharded on `data`.
What a step computes for a model comes from its kind (kinds/registry.py): the objective
and the evaluation sums. Class dropout and the optimizer update are the same for all.
"""
from typing import Any

import flax
import jax
import jax.numpy as jnp
import optax

from wavenet_jax.runtime import sharding
from wavenet_jax.training import optim


@flax.struct.dataclass
class TrainState:
  step: jnp.ndarray
  params: Any
  opt_state: Any
  ema_params: Any  # None when train.ema_decay == 0.
  rng: jnp.ndarray  # raw uint32 key data: checkpoints hold plain arrays.


def drop_classes(key, labels, rate, null_id):
  """Class dropout: each label becomes the null class with probability `rate`. [B] -> [B]

  A model trained so learns p(x) under the null class beside p(x | class): one
  conditioned model also generates unconditioned audio (the "general audio model").
  """
  return jnp.where(jax.random.bernoulli(key, rate, labels.shape), null_id, labels)


COMPUTE_DTYPES = {'float32': jnp.float32, 'bfloat16': jnp.bfloat16}


def compute_params(params, dtype):
  """The weights the forward pass multiplies with: float leaves cast to `dtype`. The float32
  params stay the master copy the optimizer updates; gradients flow back through the cast."""
  if dtype == jnp.float32:
    return params
  return jax.tree_util.tree_map(lambda p: p.astype(dtype) if jnp.issubdtype(p.dtype, jnp.floating) else p, params)


def make_train_step(kind, model, config, tx, schedule, mesh):
  """train.compute_dtype 'bfloat16': matmuls, convs and activations in bfloat16 (accumulating in
  float32); params, optimizer state, loss, softmax and the penalty stay float32. Evaluation and
  generation always run float32."""
  t = config.train
  dtype = COMPUTE_DTYPES[t.compute_dtype]

  def loss_fn(params, batch, gc_ids, step, key):
    loss, metrics = kind.objective(model, config, compute_params(params, dtype), batch, gc_ids, step, key)
    return loss + optim.l2_penalty(params, t.l2_regularization_strength), metrics

  def train_step(state, batch):
    gc_ids = batch['label']
    key = jax.random.fold_in(state.rng, state.step)
    if t.class_dropout > 0:
      gc_ids = drop_classes(key, gc_ids, t.class_dropout, model.gc_cardinality - 1)
    (_, metrics), grads = jax.value_and_grad(loss_fn, has_aux=True)(
        state.params, batch, gc_ids, state.step, jax.random.fold_in(key, 1))
    updates, opt_state = tx.update(grads, state.opt_state, state.params)
    params = optax.apply_updates(state.params, updates)
    ema = state.ema_params
    if ema is not None:
      ema = optax.incremental_update(params, ema, step_size=1.0 - t.ema_decay)
    metrics = dict(metrics, grad_norm=optax.tree.norm(grads), learning_rate=schedule(state.step))
    return state.replace(step=state.step + 1, params=params, opt_state=opt_state, ema_params=ema), metrics

  repl, data = sharding.replicated(mesh), sharding.batch_sharding(mesh)
  return jax.jit(train_step, in_shardings=(repl, data), out_shardings=(repl, repl), donate_argnums=0)


def make_eval_step(kind, model, config, num_classes, mesh):
  """(params, batch) -> {name: per-class sums}, summed over batches by Run.evaluate."""
  def eval_step(params, batch):
    return kind.eval_sums(model, config, params, batch, num_classes)

  return jax.jit(eval_step, in_shardings=(sharding.replicated(mesh), sharding.batch_sharding(mesh)),
                 out_shardings=sharding.replicated(mesh))

