"""`--tensorboard`: the loop's losses and each epoch's record as TensorBoard scalars in RUN/tensorboard/."""

from __future__ import annotations

from rnnlab.errors import RnnlabError
from rnnlab.train.callbacks import Callback


class TensorBoard(Callback):
    """Training loss per step, every number of the epoch's record per epoch (`tensorboard --logdir RUN`)."""

    def __init__(self, folder):
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            raise RnnlabError("--tensorboard needs the tensorboard package: pip install tensorboard") from None
        self.make_writer = lambda: SummaryWriter(str(folder))
        self.writer = None

    def train_started(self, trainer) -> None:           # the run directory exists by now
        self.writer = self.make_writer()

    def step_done(self, trainer, info: dict) -> None:
        self.writer.add_scalar("train/loss", info["loss"], info["step"])

    def epoch_ended(self, trainer, record: dict) -> None:
        for key, value in record.items():
            if isinstance(value, (int, float)) and not isinstance(value, bool) and key not in ("epoch", "step"):
                self.writer.add_scalar(f"epoch/{key}", value, record["step"])
        self.writer.flush()

    def train_ended(self, trainer) -> None:
        self.writer.close()
