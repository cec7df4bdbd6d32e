import pytest
import torch

from rnnlab.config import ModelConfig
from rnnlab.tasks.language_model.model import LanguageModel
from rnnlab.models.regularize import LockedDropout, call_with_weight_drop


@pytest.mark.parametrize("cell", ["rnn", "rnn-relu", "lstm", "gru"])
def test_each_cell_trains_one_step(cell):
    torch.manual_seed(0)
    model = LanguageModel(ModelConfig(cell=cell, layers=2, hidden=16, embed=8, dropout=0.2), vocab_size=20)
    inputs, targets = torch.randint(0, 20, (6, 3)), torch.randint(0, 20, (6, 3))   # (time, batch)
    out = model(inputs, model.initial_state(3), targets)
    assert out.tokens == 18 and out.nll_sum.item() > 0
    out.nll_sum.backward()
    assert all(p.grad is not None for p in model.parameters())
    logits, _ = model.step_logits(inputs, model.initial_state(3))
    assert logits.shape == (3, 20)


def test_state_carries_information_across_windows():
    torch.manual_seed(0)
    model = LanguageModel(ModelConfig(cell="lstm", layers=1, hidden=8), vocab_size=10).eval()
    x = torch.randint(0, 10, (4, 1))
    fresh, _ = model.step_logits(x, model.initial_state(1))
    _, carried_state = model.step_logits(torch.randint(0, 10, (5, 1)), model.initial_state(1))
    carried, _ = model.step_logits(x, carried_state)
    assert not torch.allclose(fresh, carried)


def test_tied_weights_with_embed_smaller_than_hidden():
    model = LanguageModel(ModelConfig(hidden=32, embed=8, tie_weights=True), vocab_size=40)
    assert model.head.decoder.weight is model.embedding.weight
    assert model.head.project is not None


def test_locked_dropout_mask_is_shared_across_time():
    torch.manual_seed(0)
    out = LockedDropout(0.5, variational=True).train()(torch.ones(10, 4, 6))
    zeros = out == 0
    assert torch.equal(zeros, zeros[:1].expand_as(zeros)) and zeros.any()


def test_weight_drop_changes_outputs_but_not_parameters():
    torch.manual_seed(0)
    lstm = torch.nn.LSTM(4, 5)
    before = lstm.weight_hh_l0.detach().clone()
    x = torch.randn(7, 2, 4)
    dropped, _ = call_with_weight_drop(lstm, 0.5, True, x)
    plain, _ = call_with_weight_drop(lstm, 0.5, False, x)
    assert not torch.allclose(dropped, plain)
    assert torch.equal(lstm.weight_hh_l0, before)
    dropped.sum().backward()
    assert lstm.weight_hh_l0.grad is not None


def test_seed_chainer_layer_drops_the_input_projection():
    torch.manual_seed(0)
    config = ModelConfig(cell="lstm", layers=2, hidden=12, dropout=0.5, dropout_site="projected")
    model = LanguageModel(config, vocab_size=15)
    assert type(model.recurrent.layers[0]).__name__ == "ProjectedDropoutLSTM"
    x = torch.randint(0, 15, (5, 2))
    model.eval()
    a, _ = model.step_logits(x, model.initial_state(2))
    b, _ = model.step_logits(x, model.initial_state(2))
    assert torch.equal(a, b)            # no dropout at evaluation
    model.train()
    c = model(x, model.initial_state(2), x).nll_sum
    d = model(x, model.initial_state(2), x).nll_sum
    assert c.item() != d.item()         # dropout masks differ while training
