import pytest
import torch

from rnnlab.config import ModelConfig
from rnnlab.generate.sampling import SamplingConfig, sample
from rnnlab.generate import stepper as stepper_module
from rnnlab.generate.stepper import Stepper, check_accuracy, fast_model
from rnnlab.tasks.language_model.model import LanguageModel


@pytest.mark.parametrize("config", [
    ModelConfig(cell="lstm", layers=2, hidden=24, embed=8),
    ModelConfig(cell="gru", layers=2, hidden=16),
    ModelConfig(cell="rnn-relu", layers=1, hidden=16),
    ModelConfig(cell="lstm", layers=2, hidden=16, embed=8, tie_weights=True),
    ModelConfig(cell="lstm", layers=2, hidden=16, dropout=0.5, dropout_site="projected"),
])
def test_fp32_stepper_matches_the_model(config):
    torch.manual_seed(0)
    model = LanguageModel(config, vocab_size=30).eval()
    stepper = Stepper(model, "fp32")
    ids = torch.randint(0, 30, (7, 2))      # (time, batch)
    expected, expected_state = model.step_logits(ids, model.initial_state(2))
    state = stepper.initial_state(2)
    for token in ids:                       # one token at a time: the packed weights
        got, state = stepper.step_logits(token.view(1, 2), state)
    assert torch.allclose(got, expected, atol=1e-5)
    whole, whole_state = stepper.step_logits(ids, stepper.initial_state(2))     # a prime: the model's layers
    assert torch.allclose(whole, expected, atol=1e-5)
    again, _ = stepper.step_logits(ids[:1], whole_state)
    reference, _ = model.step_logits(ids[:1], expected_state)
    assert torch.allclose(again, reference, atol=1e-5)


def test_bf16_is_close_and_measured():
    torch.manual_seed(0)
    model = LanguageModel(ModelConfig(cell="lstm", layers=2, hidden=32), vocab_size=50).eval()
    error = check_accuracy(model, Stepper(model, "bf16"), list(range(20)))
    assert 0 < error < 0.02


@pytest.mark.parametrize("config", [
    ModelConfig(cell="lstm", layers=2, hidden=32),
    ModelConfig(cell="gru", layers=2, hidden=32),
    ModelConfig(cell="rnn", layers=1, hidden=32),
    ModelConfig(cell="lstm", layers=2, hidden=32, embed=16, tie_weights=True),
])
def test_int8_is_close_and_measured(config):
    torch.manual_seed(0)
    model = LanguageModel(config, vocab_size=50).eval()
    error = check_accuracy(model, Stepper(model, "int8"), list(range(20)))
    assert 0 < error < 0.02


def test_fast_model_uses_reduced_precision_only_when_it_is_close(monkeypatch):
    torch.manual_seed(0)
    model = LanguageModel(ModelConfig(cell="lstm", layers=2, hidden=32), vocab_size=50).eval()
    notes = []
    assert fast_model(model, "int8", list(range(10)), notes.append).precision == "int8"
    assert "int8 weights; next-token distributions within" in notes[-1]
    monkeypatch.setattr(stepper_module, "check_accuracy", lambda *args: 0.3)
    assert fast_model(model, "int8", list(range(10)), notes.append).precision == "fp32"
    assert "moved next-token distributions by up to 0.300" in notes[-1]

    def no_kernels(*args):
        raise RuntimeError("Didn't find engine for operation quantized::linear_prepack NoQEngine")
    monkeypatch.setattr(stepper_module.torch.ops.quantized, "linear_prepack", no_kernels)
    assert fast_model(model, "int8", list(range(10)), notes.append).precision == "fp32"
    assert "int8 weights are not available here (Didn't find engine" in notes[-1]


def test_sampling_through_the_stepper_equals_sampling_the_model():
    torch.manual_seed(0)
    model = LanguageModel(ModelConfig(cell="gru", layers=1, hidden=16), vocab_size=12).eval()
    config = SamplingConfig(length=25, seed=4)
    assert sample(Stepper(model), [1, 2], config, "cpu") == sample(model, [1, 2], config, "cpu")
    beam = SamplingConfig(length=6, beam=3)
    assert sample(Stepper(model), [1], beam, "cpu") == sample(model, [1], beam, "cpu")


def test_a_cell_the_stepper_does_not_pack_is_sampled_by_the_model_itself():
    torch.manual_seed(0)
    model = LanguageModel(ModelConfig(cell="lstm-peephole", layers=2, hidden=12), 30).eval()
    notes = []
    assert fast_model(model, "fp32", [1, 2], notes.append) is model and not notes
    assert fast_model(model, "int8", [1, 2], notes.append) is model
    assert notes == ["note: int8 weights are not available for --cell lstm-peephole; using fp32"]
    ids = sample(model, [1, 2, 3], SamplingConfig(length=8, greedy=True), "cpu")
    assert len(ids) == 8 and all(0 <= i < 30 for i in ids)


@pytest.mark.parametrize("rows", [1, stepper_module.WIDE_ROWS - 1, stepper_module.WIDE_ROWS, 21, 40])
def test_int8_products_agree_whichever_packing_a_batch_takes(rows):
    """Batches of many rows go through a second packing of the same int8 weights (oneDNN's kernels,
    where this build has them): the same numbers as the default packing, close to fp32."""
    torch.manual_seed(0)
    weight, bias = torch.randn(300, 64) * 0.1, torch.randn(300)
    product = stepper_module.Product(weight, bias, "int8")
    x = torch.randn(rows, 64)
    got, exact = product(x), x @ weight.t() + bias
    assert (got - exact).abs().max() < 0.03 * exact.abs().max()
    if product.wide is not None:
        default = torch.ops.quantized.linear_dynamic(x, product.packed, True)
        wide = torch.ops.quantized.linear_dynamic(x, product.wide, True)
        assert torch.allclose(default, wide, atol=1e-4)
        assert torch.allclose(got, wide if rows >= stepper_module.WIDE_ROWS else default, atol=1e-5)
