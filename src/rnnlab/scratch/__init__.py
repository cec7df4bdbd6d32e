"""The recurrent cells and their training loop written again in NumPy, forward and backward.

Every layer keeps `params` and `grads` (dicts of arrays) and has `forward` and `backward` side by
side; tensors are time-major, `(time, batch, features)`, as in `rnnlab.models`. float32 by
default, float64 for the gradient and PyTorch parity checks.
"""
