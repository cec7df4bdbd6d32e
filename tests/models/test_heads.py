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


def test_bf16_products_stay_close_to_the_fp32_loss_and_gradients():
    torch.manual_seed(0)
    hidden = torch.randn(100, 32, requires_grad=True)
    weight = (torch.randn(500, 32) * 0.3).requires_grad_()
    bias = torch.randn(500, requires_grad=True)
    targets = torch.randint(0, 500, (100,))
    exact = linear_cross_entropy(hidden, weight, bias, targets)
    exact.backward()
    reference = [t.grad.clone() for t in (hidden, weight, bias)]
    for t in (hidden, weight, bias):
        t.grad = None
    low = linear_cross_entropy(hidden, weight, bias, targets, low_precision=torch.bfloat16)
    low.backward()
    assert low.dtype == torch.float32
    assert abs(low.item() - exact.item()) < 1e-2 * exact.item()
    assert low.item() != exact.item()                     # the products really ran in bf16
    for t, expected in zip((hidden, weight, bias), reference):
        assert t.grad.dtype == torch.float32
        assert (t.grad - expected).norm() < 2e-2 * expected.norm()


def test_head_under_bf16_autocast_uses_the_fused_bf16_path():
    torch.manual_seed(0)
    head = SoftmaxHead(hidden_size=16, vocab_size=40, embed_size=16, tied=None)
    hidden, targets = torch.randn(6, 3, 16), torch.randint(0, 40, (6, 3))
    exact = head.nll_sum(hidden, targets)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        low = head.nll_sum(hidden.bfloat16(), targets)
    assert low.dtype == torch.float32                      # the summed loss is not rounded to bf16
    assert low.item() != exact.item()
    assert abs(low.item() - exact.item()) < 2e-2 * exact.item()
