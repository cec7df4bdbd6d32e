"""rnnlab: recurrent sequence models (RNN, LSTM, GRU) to learn, use and play with."""

import os as _os

# OpenMP threads that sleep while they wait instead of spinning. On a machine where other programs
# are busy, a spinning thread holds the core that the thread it waits for needs: a two-thread step
# then runs 2 to 30 times slower than one thread. This must be set before PyTorch starts OpenMP,
# hence here; a value the user set stays.
_os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__version__ = "0.1.0"
