"""rnnlab: recurrent sequence models (RNN, LSTM, GRU) to learn, use and play with."""

__version__ = "0.1.0"
