#!/usr/bin/env bash
# Issue 44's device tables in one run (a few minutes on an H100; compiles included):
#   bash benchmarks/device_tables.sh OUT_DIR
# Each table prints and is written as OUT_DIR/<name>.json; the log is OUT_DIR/device_tables.log.
# 1. training: ibab default at batch 1/8/32, NSynth h512 at 32 x 6,144, float32 and bfloat16,
#    with the device's measured matmul rates (goal: NSynth h512 bf16 >= 0.40 of the bf16 rate);
# 2. the Pallas step and the persistent kernel at batch 1 and 16 beside the XLA step (goal: one
#    stream of nv-wavenet's model >= 48,000 samples/s, draws equal to the XLA step's);
# 3. benchmarks/generation.py at batch 1 and 1024.
set -euo pipefail
out=${1:?usage: bash benchmarks/device_tables.sh OUT_DIR}
mkdir -p "$out"
cd "$(dirname "$0")/.."
{
  python -c 'import jax; print(jax.__version__, jax.devices())'
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv || true
  python -m benchmarks.device_train --json "$out/device_train.json"
  for b in 1 16; do
    python -m benchmarks.pallas_generation --samples 16384 --batch "$b" --persistent --chunk 256 \
        --json "$out/pallas_b$b.json"
  done
  for b in 1 1024; do
    python benchmarks/generation.py --batch "$b" --json "$out/generation_b$b.json"
  done
} 2>&1 | tee "$out/device_tables.log"
