"""Focal loss: cross-entropy at gamma 0, the definition at gamma > 0, stable gradients, fp16."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from objectives._loss import FocalLoss, focal_loss

C = 5


@pytest.fixture
def batch() -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    logits = torch.randn(16, C, generator=generator) * 3
    targets = torch.randint(0, C, (16,), generator=generator)
    return logits, targets


ALPHA = torch.tensor([0.25, 1.0, 2.0, 0.5, 1.5])


def direct_focal(logits, targets, gamma, alpha=None, eps=0.0):
    """The module's definition, one example and one class at a time, in float64."""
    logits = logits.double()
    losses = []
    for row, y in zip(logits, targets.tolist(), strict=True):
        p = torch.softmax(row, 0)
        total = 0.0
        for c in range(C):
            q = (1 - eps) * (c == y) + eps / C
            weight = 1.0 if alpha is None else float(alpha[c])
            total += -q * weight * (1 - p[c]) ** gamma * torch.log(p[c])
        losses.append(total)
    return torch.stack(losses)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("eps", [0.0, 0.1])
@pytest.mark.parametrize("alpha", [None, ALPHA])
def test_gamma_zero_is_cross_entropy(batch, reduction, eps, alpha) -> None:
    logits, targets = batch
    expected = F.cross_entropy(
        logits, targets, weight=alpha, label_smoothing=eps, reduction=reduction
    )
    got = focal_loss(logits, targets, 0.0, alpha, eps, reduction)
    torch.testing.assert_close(got, expected)


@pytest.mark.parametrize("eps", [0.0, 0.1])
@pytest.mark.parametrize("alpha", [None, ALPHA])
def test_small_gamma_approaches_cross_entropy(batch, eps, alpha) -> None:
    # The gamma > 0 code path, including its mean over alpha weights, meets the gamma 0 one.
    logits, targets = batch
    expected = F.cross_entropy(logits, targets, weight=alpha, label_smoothing=eps)
    got = focal_loss(logits, targets, 1e-6, alpha, eps)
    torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-5)


def test_gamma_two_with_alpha_matches_the_formula(batch) -> None:
    logits, targets = batch
    p_y = torch.softmax(logits.double(), 1)[torch.arange(16), targets]
    formula = -ALPHA.double()[targets] * (1 - p_y) ** 2 * torch.log(p_y)
    got = focal_loss(logits, targets, 2.0, ALPHA, reduction="none")
    torch.testing.assert_close(got.double(), formula, rtol=1e-5, atol=1e-6)
    mean = focal_loss(logits, targets, 2.0, ALPHA)
    torch.testing.assert_close(mean.double(), formula.sum() / ALPHA.double()[targets].sum())
    assert focal_loss(logits, targets, 2.0).item() < F.cross_entropy(logits, targets).item()


@pytest.mark.parametrize("gamma", [0.5, 2.0])
def test_gamma_with_label_smoothing_matches_the_definition(batch, gamma) -> None:
    logits, targets = batch
    expected = direct_focal(logits, targets, gamma, ALPHA, eps=0.1)
    got = focal_loss(logits, targets, gamma, ALPHA, 0.1, "none")
    torch.testing.assert_close(got.double(), expected, rtol=1e-5, atol=1e-6)


def test_label_smoothing_still_penalises_confident_examples_under_focal() -> None:
    logits = torch.tensor([[30.0, 0.0, 0.0, 0.0, 0.0]])
    targets = torch.tensor([0])
    assert focal_loss(logits, targets, 2.0).item() < 1e-20
    # The smoothing targets on the other classes keep their weight (their 1 - p is ~1).
    assert focal_loss(logits, targets, 2.0, label_smoothing=0.1).item() > 2.0


@pytest.mark.parametrize("gamma", [0.0, 0.3, 1.0, 2.0])
@pytest.mark.parametrize("eps", [0.0, 0.1])
def test_gradients_are_finite_for_confident_logits(gamma, eps) -> None:
    logits = torch.tensor(
        [[200.0, 0.0, -200.0, 0.0, 0.0], [0.0, 90.0, 0.0, 0.0, 0.0], [1.0, 2.0, 3.0, 4.0, 5.0]],
        requires_grad=True,
    )
    targets = torch.tensor([0, 1, 4])
    loss = focal_loss(logits, targets, gamma, ALPHA, eps)
    loss.backward()
    assert torch.isfinite(loss)
    assert torch.isfinite(logits.grad).all()
    assert logits.grad[2].abs().sum() > 0  # the unsure example still learns


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_precision_logits_are_computed_in_float32(batch, dtype) -> None:
    logits, targets = batch
    half = (logits * 10).to(dtype).requires_grad_()  # large enough to overflow fp16 exp()
    loss = focal_loss(half, targets, 2.0, ALPHA, 0.1)
    assert loss.dtype == torch.float32
    expected = focal_loss(half.detach().float(), targets, 2.0, ALPHA, 0.1)
    torch.testing.assert_close(loss, expected)
    loss.backward()
    assert half.grad.dtype == dtype
    assert torch.isfinite(half.grad.float()).all()


def test_module_matches_function_and_moves_alpha_as_a_buffer(batch) -> None:
    logits, targets = batch
    module = FocalLoss(gamma=1.5, alpha=ALPHA, label_smoothing=0.05)
    torch.testing.assert_close(
        module(logits, targets), focal_loss(logits, targets, 1.5, ALPHA, 0.05)
    )
    assert "alpha" in dict(module.named_buffers())
    assert module.to(torch.float64).alpha is not None
    assert "gamma=1.5" in repr(module)
    plain = FocalLoss()
    torch.testing.assert_close(plain(logits, targets), F.cross_entropy(logits, targets))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"gamma": -1.0}, "gamma"),
        ({"gamma": float("nan")}, "gamma"),
        ({"label_smoothing": 1.5}, "label_smoothing"),
        ({"reduction": "avg"}, "reduction"),
        ({"alpha": torch.ones(3)}, "alpha"),
    ],
)
def test_bad_arguments_are_rejected(batch, kwargs, match) -> None:
    logits, targets = batch
    with pytest.raises(ValueError, match=match):
        focal_loss(logits, targets, **kwargs)


def test_module_rejects_bad_alpha() -> None:
    with pytest.raises(ValueError, match="alpha"):
        FocalLoss(alpha=torch.ones(2, 2))
