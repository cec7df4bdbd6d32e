import torch
import torch.nn.functional as F

from rnnlab.models.heads import SoftmaxHead, linear_cross_entropy


def test_fused_loss_and_gradients_match_plain_cross_entropy():
    torch.manual_seed(0)
    hidden = torch.randn(300, 16, dtype=torch.float64, requires_grad=True)   # > one chunk of rows
    weight = torch.randn(50, 16, dtype=torch.float64, requires_grad=True)
    bias = torch.randn(50, dtype=torch.float64, requires_grad=True)
    targets = torch.randint(0, 50, (300,))
    fused = linear_cross_entropy(hidden, weight, bias, targets)
    (fused * 0.5).backward()
    grads = [t.grad.clone() for t in (hidden, weight, bias)]
    for t in (hidden, weight, bias):
        t.grad = None
    plain = F.cross_entropy(hidden @ weight.t() + bias, targets, reduction="sum")
    (plain * 0.5).backward()
    assert torch.allclose(fused, plain, rtol=1e-12)
    for got, t in zip(grads, (hidden, weight, bias)):
        assert torch.allclose(got, t.grad, rtol=1e-10, atol=1e-12)


def test_fused_loss_without_grad():
    with torch.no_grad():
        h, w, b = torch.randn(10, 4), torch.randn(7, 4), torch.zeros(7)
        t = torch.randint(0, 7, (10,))
        assert torch.allclose(linear_cross_entropy(h, w, b, t), F.cross_entropy(h @ w.t() + b, t, reduction="sum"))


def test_tied_head_with_projection_shares_the_embedding():
    embedding = torch.nn.Embedding(30, 8)
    head = SoftmaxHead(hidden_size=12, vocab_size=30, embed_size=8, tied=embedding)
    assert head.decoder.weight is embedding.weight
    assert head(torch.randn(5, 2, 12)).shape == (5, 2, 30)
