"""The NumPy language model against rnnlab.tasks.language_model.model.LanguageModel with the same weights (float64)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rnnlab.config import ModelConfig
from rnnlab.errors import RnnlabError
from rnnlab.tasks.language_model.model import LanguageModel as TorchLanguageModel
from rnnlab.scratch.gradcheck import check
from rnnlab.scratch.model import LanguageModel
from rnnlab.scratch.torch_layout import map_weights

TOLERANCE = 1e-6
VOCAB = 13


def pair(config: ModelConfig):
    torch.manual_seed(0)
    reference = TorchLanguageModel(config, VOCAB, fused_loss=False).double().eval()
    ours = LanguageModel(config, VOCAB, np.float64)
    ours.load_state_dict({k: v.detach().numpy() for k, v in reference.state_dict().items()})
    return reference, ours


def torch_state(ours: LanguageModel) -> list:
    state = [tuple(torch.tensor(s[None]) for s in layer) for layer in ours.state]
    return [s if len(s) == 2 else s[0] for s in state]


def our_layout_of_torch_grads(config: ModelConfig, reference) -> dict[str, np.ndarray]:
    grads = {name: p.grad.numpy() for name, p in reference.named_parameters()}
    out = {"embedding.W": grads["embedding.weight"], "decoder.b": grads["head.decoder.bias"]}
    if not config.tie_weights:
        out["decoder.W"] = grads["head.decoder.weight"].T
    if "head.project.weight" in grads:
        out["project.W"] = grads["head.project.weight"].T
    for k in range(config.layers):
        layer = {name.split(".")[-1]: g for name, g in grads.items() if name.startswith(f"recurrent.layers.{k}.")}
        if config.cell != "gru":
            layer["bias_hh_l0"] = np.zeros_like(layer["bias_hh_l0"])     # our one bias: either one's gradient
        out.update({f"layers.{k}.{name}": g for name, g in map_weights(config.cell, layer, to="numpy").items()})
    return out


CONFIGS = [ModelConfig(cell=cell, layers=2, hidden=6, embed=5) for cell in ("rnn", "rnn-relu", "lstm", "gru")] + [
    ModelConfig(cell="lstm", layers=1, hidden=6, embed=4, tie_weights=True),     # tied, projected
    ModelConfig(cell="gru", layers=1, hidden=5, embed=5, tie_weights=True),      # tied, same size
]


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: f"{c.cell}-tied{int(c.tie_weights)}-e{c.embed}")
def test_same_weights_same_losses_and_gradients_over_two_windows(config):
    reference, ours = pair(config)
    rng = np.random.default_rng(0)
    ids = rng.integers(0, VOCAB, (11, 3))                        # (time, batch)
    for inputs, targets in ((ids[:5], ids[1:6]), (ids[5:10], ids[6:11])):   # the state carries over
        state = torch_state(ours) if ours.state[0] is not None else [
            (torch.zeros(1, 3, 6, dtype=torch.float64),) * 2 if config.cell == "lstm"
            else torch.zeros(1, 3, config.hidden, dtype=torch.float64) for _ in range(config.layers)]
        reference.zero_grad()
        out = reference(torch.tensor(inputs), state, torch.tensor(targets))
        (out.nll_sum / out.tokens).backward()
        nll = ours.forward(inputs, targets, keep=True)
        ours.backward(1 / targets.size)
        assert abs(nll - out.nll_sum.item()) < TOLERANCE
        expected = our_layout_of_torch_grads(config, reference)
        assert set(expected) == set(ours.grads)
        for name, grad in expected.items():
            assert np.abs(ours.grads[name] - grad).max() < TOLERANCE, name


def test_whole_model_numerical_gradient_with_dropout_masks():
    config = ModelConfig(cell="lstm", layers=2, hidden=4, embed=3, dropout=0.3, dropout_embed=0.2,
                         variational=True, tie_weights=True)
    model = LanguageModel(config, 7, np.float64, seed=1)
    ids = np.random.default_rng(2).integers(0, 7, (4, 2))

    def loss():
        model.rng.bit_generator.state = np.random.default_rng(9).bit_generator.state   # same masks
        model.reset_state()
        return model.forward(ids[:3], ids[1:], training=True)

    loss()
    model.backward()
    analytic = {name: g.copy() for name, g in model.grads.items()}
    errors = check(loss, analytic, model.params, eps=1e-4)     # tiny gradients: round-off rules at 1e-6
    assert max(errors.values()) < 1e-6, errors


def test_state_dict_round_trip_keeps_tied_weights_tied():
    config = ModelConfig(cell="gru", layers=1, hidden=6, embed=6, tie_weights=True)
    reference, ours = pair(config)
    saved = ours.state_dict()
    assert set(saved) == set(reference.state_dict())
    ours.params["embedding.W"] += 1.0
    assert np.allclose(ours.decoder.params["W"], ours.params["embedding.W"].T)
    ours.load_state_dict(saved)
    assert np.allclose(ours.state_dict()["head.decoder.weight"], saved["embedding.weight"])


def test_mismatched_weights_name_the_key():
    _, ours = pair(ModelConfig(cell="lstm", layers=1, hidden=6, embed=5))
    weights = ours.state_dict()
    weights["embedding.weight"] = np.zeros((VOCAB + 1, 5))
    with pytest.raises(RnnlabError, match=r"best.pt: embedding.weight has shape \(14, 5\)"):
        ours.load_state_dict(weights, "best.pt")
    del weights["head.decoder.bias"]
    with pytest.raises(RnnlabError, match="missing: head.decoder.bias"):
        ours.load_state_dict(weights)


def test_unknown_cell_type_says_so():
    with pytest.raises(RnnlabError, match="unknown cell type 'mgu'"):
        LanguageModel(ModelConfig(cell="mgu"), VOCAB)
