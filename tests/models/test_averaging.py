"""The weights' moving average: early steps weigh more, swapping twice restores, checkpoints carry it."""

from __future__ import annotations

import torch
from torch import nn

from rnnlab.models.averaging import AveragedWeights, averaged_state


class Tiny(AveragedWeights):
    def __init__(self, decay: float):
        super().__init__()
        self.layer = nn.Linear(3, 2)
        self.keep_average(decay)


def test_the_average_follows_the_weights_and_swaps_back():
    torch.manual_seed(0)
    model = Tiny(0.9)
    start = model.layer.weight.detach().clone()
    with torch.no_grad():
        model.layer.weight.add_(1.0)
    model.update_average(step=0)                  # decay min(0.9, 1/10): the new weights weigh 0.9
    assert torch.allclose(model.average_layer_weight, start + 0.9)
    trained = model.layer.weight.detach().clone()
    model.swap_average()
    assert torch.allclose(model.layer.weight, start + 0.9)
    model.swap_average()
    assert torch.equal(model.layer.weight, trained)
    assert "average_layer_bias" in model.state_dict()
    again = Tiny(0.9)
    again.load_state_dict(model.state_dict())
    again.use_average()
    assert torch.allclose(again.layer.weight, start + 0.9)


def test_no_average_no_buffers_and_nothing_moves():
    model = Tiny(0.0)
    before = model.layer.weight.detach().clone()
    model.update_average(step=5)
    model.swap_average()
    model.use_average()
    assert not any(name.startswith("average_") for name in model.state_dict())
    assert torch.equal(model.layer.weight, before)


def test_a_saved_state_read_with_its_average_matches_the_model_after_use_average():
    torch.manual_seed(0)
    model = Tiny(0.9)
    for step in range(3):
        model.update_average(step)
        with torch.no_grad():
            model.layer.weight.add_(1.0)
    read = averaged_state(model.state_dict())
    model.use_average()
    assert read.keys() == dict(model.layer.named_parameters(prefix="layer")).keys()
    for name, value in model.named_parameters():
        assert torch.equal(read[name], value)
    plain = Tiny(0.0).state_dict()
    assert averaged_state(plain).keys() == plain.keys()
