"""Data parallelism over every device of every host: a 1-D mesh with a `data` axis.

The batch is sharded on `data`, the train state replicated: pmap's semantics, written
as plain `jax.jit` with shardings (docs/architecture.md#devices-and-precision). Each host
feeds only its local slice of the batch; `global_batch` stitches the slices into one global
array.
"""
import os
import sys

import jax
import numpy as np
from jax.sharding import NamedSharding, PartitionSpec as P


def make_mesh() -> jax.sharding.Mesh:
  return jax.make_mesh((jax.device_count(),), ('data',),
                       axis_types=(jax.sharding.AxisType.Auto,))


def batch_sharding(mesh) -> NamedSharding:
  return NamedSharding(mesh, P('data'))


def replicated(mesh) -> NamedSharding:
  return NamedSharding(mesh, P())


def per_host_batch_size(global_batch_size: int) -> int:
  """Examples each host feeds per step; the global batch must split evenly over devices."""
  if global_batch_size % jax.device_count():
    raise ValueError(f'train.batch_size={global_batch_size} is not a multiple of the '
                     f'{jax.device_count()} devices')
  return global_batch_size // jax.process_count()


def global_batch(local: dict, mesh) -> dict:
  """Host-local numpy batch (leading axis = this host's examples) -> global jax.Arrays."""
  sharding = batch_sharding(mesh)
  return {k: jax.make_array_from_process_local_data(sharding, np.asarray(v)) for k, v in local.items()}


# Environment variables that mean "this process is one of several".
_CLUSTER_ENV = ('JAX_COORDINATOR_ADDRESS', 'SLURM_NTASKS', 'OMPI_COMM_WORLD_SIZE', 'TPU_WORKER_HOSTNAMES')


def maybe_initialize_distributed(coordinator_address=None, num_processes=None, process_id=None):
  """jax.distributed.initialize when launched on several hosts; a no-op on one.

  Explicit arguments win (local multi-process runs and tests); otherwise JAX's own
  cluster detection (TPU pods, SLURM, Open MPI) is used when the environment says
  there is a cluster of more than one process.
  """
  if coordinator_address:
    jax.distributed.initialize(coordinator_address=coordinator_address,
                               num_processes=num_processes, process_id=process_id)
    return True
  many = [k for k in _CLUSTER_ENV if k in os.environ]
  if k := next(iter(many), None):
    value = os.environ[k]
    several = (',' in value) if k == 'TPU_WORKER_HOSTNAMES' else (k == 'JAX_COORDINATOR_ADDRESS' or int(value) > 1)
    if several:
      jax.distributed.initialize()
      return True
  return False


# What a collective or coordination call says when another process of the job is gone
# (gloo/NCCL: the peer's sockets reset; the coordination service: missed heartbeats).
_LOST_PEER = ('gloo', 'nccl', 'connection reset', 'connection closed', 'broken pipe', 'heartbeat',
              'barrier', 'coordination', 'unavailable', 'socket closed')


def lost_peer_message(error: BaseException) -> str | None:
  """The one line for an error that means another process of a multi-process run stopped;
  None for any other error, and on a single process."""
  if jax.process_count() == 1 or not isinstance(error, jax.errors.JaxRuntimeError):
    return None
  what = next((line.strip() for line in str(error).splitlines() if line.strip()), '')
  if not any(word in what.lower() for word in _LOST_PEER):
    return None
  return (f'process {jax.process_index()} of {jax.process_count()} lost the other processes '
          f'({what[:160]}); relaunch all {jax.process_count()} with the same flags: the run '
          'resumes from its latest checkpoint')


def exit_if_peer_lost(error: BaseException) -> None:
  """When `error` means another process of the run died: its one line on stderr, exit code 3.

  os._exit, not sys.exit: JAX's exit hook would wait for the lost process at the shutdown
  barrier (minutes), then abort with a C++ stack trace.
  """
  line = lost_peer_message(error)
  if line is None:
    return
  print(f'error: {line}', file=sys.stderr)
  sys.stdout.flush()
  sys.stderr.flush()
  os._exit(3)
