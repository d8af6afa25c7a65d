"""A WaveNet's matmul work and weight bytes, counted from its config (what the ceilings divide)."""


def block_flops(model) -> int:
  """Matmul FLOPs of the residual blocks per input position (filter+gate conv, then the 1x1)."""
  r, d = model.residual_channels, model.dilation_channels
  return len(model.dilations) * 2 * (model.filter_width * r * 2 * d + d * r)


def head_flops(model) -> int:
  """Matmul FLOPs per output position: all skips, then the two 1x1s of the head."""
  return 2 * sum(k * n for k, n in head_gemv_shapes(model))


def train_step_flops(model, num_inputs: int, num_outputs: int) -> int:
  """Forward + backward (twice the forward: gradients of inputs and of weights)."""
  return 3 * (num_inputs * block_flops(model) + num_outputs * head_flops(model))


def sample_flops(model) -> int:
  """One sample of fast generation: every block and the head, once."""
  return block_flops(model) + head_flops(model)


def weight_bytes(model) -> int:
  """float32 bytes of the matmul weights: what one stream's sample reads from memory."""
  return 4 * (block_flops(model) + head_flops(model)) // 2


def head_gemv_shapes(model) -> list:
  """(K, N) of the head's matmuls, in order: all skips at once, then its two 1x1s."""
  s = model.skip_channels
  return [(len(model.dilations) * model.dilation_channels, s), (s, s), (s, model.quantization_channels)]
