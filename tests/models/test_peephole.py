"""--cell lstm-peephole: the LSTM whose gates see the cell state, as a language model's layers."""

import json

import pytest
import torch

from rnnlab.cli import main
from rnnlab.config import ModelConfig
from rnnlab.errors import RnnlabError
from rnnlab.models.cells import PeepholeLSTM
from rnnlab.models.recurrent import StackedRecurrent, make_layer
from rnnlab.tasks.language_model.model import LanguageModel

TINY = ["--level", "word", "--cell", "lstm-peephole", "--batch-size", "4", "--bptt", "8", "--hidden", "16",
        "--layers", "2", "--threads", "1", "--device", "cpu"]


def test_the_cell_is_chosen_by_name_and_keeps_an_lstm_state():
    config = ModelConfig(cell="lstm-peephole", layers=2, hidden=6)
    assert isinstance(make_layer("lstm-peephole", 5, 6, config), PeepholeLSTM)
    stack = StackedRecurrent(config, 5)
    state = stack.initial_state(3)
    assert all(isinstance(s, tuple) and [t.shape for t in s] == [(1, 3, 6)] * 2 for s in state)
    out, new_state = stack(torch.randn(4, 3, 5), state)
    assert out.shape == (4, 3, 6) and all(s[1].shape == (1, 3, 6) for s in new_state)
    with pytest.raises(RnnlabError, match="--dropout-site projected"):
        make_layer("lstm-peephole", 5, 6, ModelConfig(cell="lstm-peephole", dropout_site="projected"))


def test_the_peepholes_change_the_output_and_get_gradients():
    torch.manual_seed(0)
    layer = PeepholeLSTM(3, 4)
    x = torch.randn(6, 2, 3)
    out, (h, c) = layer(x)
    assert torch.equal(out[-1], h[0])
    (out.sum() + c.sum()).backward()
    assert layer.peephole_l0.grad is not None and layer.peephole_l0.grad.abs().min() > 0
    with torch.no_grad():
        layer.peephole_l0.mul_(3)
    assert not torch.allclose(layer(x)[0], out)


def test_weight_drop_acts_on_the_peephole_layer_too():
    config = ModelConfig(cell="lstm-peephole", layers=1, hidden=8, weight_drop=0.5)
    torch.manual_seed(0)
    stack = StackedRecurrent(config, 4).train()
    x = torch.randn(5, 2, 4)
    first = stack(x, stack.initial_state(2))[0]
    second = stack(x, stack.initial_state(2))[0]
    assert not torch.allclose(first, second)                 # a fresh DropConnect mask each call
    stack.eval()
    assert torch.equal(stack(x, stack.initial_state(2))[0], stack(x, stack.initial_state(2))[0])


def test_a_tiny_peephole_language_model_learns():
    torch.manual_seed(0)
    model = LanguageModel(ModelConfig(cell="lstm-peephole", layers=1, hidden=16, embed=8), 6)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.02)
    ids = torch.arange(33) % 6                                  # 0 1 2 3 4 5 0 1 ...: each token names the next
    inputs, targets = ids[:-1].view(8, 4), ids[1:].view(8, 4)
    losses = []
    for _ in range(30):
        out = model(inputs, model.initial_state(4), targets)
        loss = out.nll_sum / out.tokens
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0], losses


def test_train_save_load_evaluate_through_the_command_line(tmp_path, small_text, capsys):
    run = tmp_path / "peephole"
    assert main(["train", str(small_text), *TINY, "--epochs", "2", "--out", str(run)]) == 0
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in records] == [1, 2]
    assert records[-1]["train_loss"] < records[0]["train_loss"], records
    assert json.loads((run / "config.json").read_text())["model"]["cell"] == "lstm-peephole"
    saved = torch.load(run / "checkpoints" / "best.pt", weights_only=True)["model"]
    assert saved["recurrent.layers.1.peephole_l0"].shape == (3 * 16,)

    from rnnlab.tasks.registry import open_run
    trained = open_run(run)
    assert all(isinstance(layer, PeepholeLSTM) for layer in trained.model.recurrent.layers)
    for name, value in trained.model.state_dict().items():
        assert torch.equal(value.cpu(), saved[name]), name
    capsys.readouterr()
    assert main(["evaluate", str(run), "--split", "valid", "--json", "--batch-size", "10"]) == 0   # as validated
    result = json.loads(capsys.readouterr().out)
    best = min(records, key=lambda r: r["valid_loss"])
    assert result["nll"] == pytest.approx(best["valid_loss"], rel=1e-4)


@pytest.mark.parametrize("task", ["seq2seq", "dialogue"])
def test_tasks_without_a_peephole_model_refuse_it_in_one_line(tmp_path, task, capsys):
    data = tmp_path / "pairs.tsv"
    data.write_text("".join(f"{w}\t{w[::-1]}\n" for w in ("abc", "bca", "cab", "acb") * 10), encoding="utf-8")
    assert main(["train", str(data), "--task", task, "--cell", "lstm-peephole", "--out", str(tmp_path / "r")]) == 2
    assert "lstm-peephole" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()
