"""One process of a multi-device or multi-process training test (run by test_train.py).

    python tests/mp_worker.py DATA_DIR WORKDIR OUT.npz [COORDINATOR NUM_PROCESSES PROCESS_ID]

Trains a tiny config for 2 steps, then writes this process's view: its params, how the
global batch was split over devices, the records it reads, and the device/process counts.
"""
import os
import sys

import jax
import numpy as np

sys.path.insert(1, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # tiny imports configs/: not installed
import tiny  # tests/tiny.py: a script's own folder is the first entry of sys.path
from wavenet_jax.apps import train
from wavenet_jax.checkpoints import checkpointing
from wavenet_jax.input import pipeline
from wavenet_jax.runtime import sharding
from wavenet_jax.training import run as training_run


def main(data_dir, workdir, out):
  config = tiny.config(data_dir, batch_size=2 * jax.device_count(), steps=2)
  run = training_run.open_run(config, workdir)
  local = next(pipeline.train_iterator(
      run.sources, which='train', seed=0, receptive_field=run.receptive_field,
      sample_size=config.data.sample_size, batch_size=sharding.per_host_batch_size(config.train.batch_size),
      silence_threshold=0.0, shuffle_buffer=8, process_index=jax.process_index(),
      process_count=jax.process_count()))
  batch = sharding.global_batch(local, run.mesh)
  shard_rows = [int(s.data.shape[0]) for s in batch['audio'].addressable_shards]
  train.train_and_evaluate(config, workdir)
  state, meta = checkpointing.load(workdir)
  flat = {jax.tree_util.keystr(k): np.asarray(v)
          for k, v in jax.tree_util.tree_leaves_with_path(state['params'])}
  reads = [f'{r.filename}:{k}' for r in run.sources.host_reads('train', jax.process_index(),
                                                               jax.process_count())
           for k in range(r.skip, r.skip + r.take)]
  np.savez(out, records=np.array(reads), shard_rows=np.array(shard_rows), global_rows=batch['audio'].shape[0],
           devices=jax.device_count(), processes=jax.process_count(), step=meta['step'],
           local_first=local['audio'][0], **flat)


if __name__ == '__main__':
  if len(sys.argv) > 4:  # before anything touches a device
    jax.config.update('jax_cpu_collectives_implementation', 'gloo')
    jax.distributed.initialize(coordinator_address=sys.argv[4], num_processes=int(sys.argv[5]),
                               process_id=int(sys.argv[6]))
  main(*sys.argv[1:4])
